//! The sampler integrates exactly the velocity the trainer fits: for every network kind and for
//! models with and without a Klein–Gordon backbone, linear and Hermite paths, the sampler's
//! velocity at (S, t) equals the backbone plus the residual the training objective compares with
//! its target, and the objective's loss is the flow loss of that residual.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use genads_runtime::experiment::{Experiment, ExperimentConfig, PointExperiment};
use genads_runtime::nn::unet::UNetConfig;
use genads_runtime::nn::{
    build_from_config, init_seeded, CnnConfig, MixtureConfig, MlpConfig, NetConfig, SourceConfig,
    StateKind,
};
use genads_runtime::{Physics, State};
use rand::{Rng, SeedableRng};

const MODES: usize = 8;

fn experiment(path: &str, backbone: &str) -> PointExperiment {
    let source = format!(
        "model m {{ boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone {backbone} path {path} }}"
    );
    let mut config = ExperimentConfig::checkerboard(source, "test".into(), "m".into());
    config.modes = MODES;
    config.train_size = 500;
    PointExperiment::new(config).unwrap()
}

fn spectral_nets(gate: bool) -> Vec<NetConfig> {
    vec![
        NetConfig::Mlp(MlpConfig {
            hidden: 16,
            depth: 2,
            time_dim: 8,
            time_scale: 1000,
            fourier_octaves: 0,
        }),
        NetConfig::Cnn(CnnConfig {
            hidden: 8,
            depth: 2,
            time_dim: 8,
            time_scale: 1000,
            groups: 4,
        }),
        NetConfig::UNet(UNetConfig {
            hidden: 8,
            depth: 1,
            time_dim: 8,
            groups: 4,
            pixel: true,
        }),
        NetConfig::Source(SourceConfig {
            grid: 12,
            support_percent: 60,
            hidden: 16,
            time_dim: 8,
            time_scale: 1000,
            backbone_gate: gate,
            sub_cell: false,
            grid_bias_scale: 2.5,
        }),
        NetConfig::Mixture(MixtureConfig {
            components: 4,
            hidden: 16,
            depth: 2,
            feature_grid: 6,
            support_percent: 60,
            time_hidden: 16,
            head_rank: 4,
            time_dim: 8,
            time_scale: 1000,
            backbone_gate: gate,
            gate_bound: false,
            refine_steps: 1,
            prior_spectrum: true,
            anchored: 0,
            anchor_octaves: 0,
            prior_grid: 0,
            anchor_from: 0.0,
        }),
        NetConfig::Mixture(MixtureConfig {
            components: 4,
            hidden: 16,
            depth: 2,
            feature_grid: 6,
            support_percent: 60,
            time_hidden: 16,
            head_rank: 4,
            time_dim: 8,
            time_scale: 1000,
            backbone_gate: gate,
            gate_bound: gate,
            refine_steps: 0,
            prior_spectrum: true,
            anchored: 2,
            anchor_octaves: 3,
            prior_grid: 8,
            anchor_from: 0.3,
        }),
    ]
}

fn max_diff(a: &State, b: &State) -> f32 {
    let d = |x: &Tensor, y: &Tensor| {
        (x - y)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    };
    d(&a.phi, &b.phi).max(d(&a.pi, &b.pi))
}

/// Random values for every variable, zero-initialised heads included (at initialisation a
/// backbone gate is 0, which would hide a sampler that ignores it).
fn randomise(vm: &VarMap, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for var in vm.all_vars() {
        let n = var.elem_count();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-0.2f32..0.2)).collect();
        var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
            .unwrap();
    }
}

#[test]
fn sampler_velocity_is_the_trained_velocity() {
    for (path, backbone) in [
        ("linear", "off"),
        ("linear", "klein_gordon"),
        ("hermite", "klein_gordon"),
    ] {
        let e = experiment(path, backbone);
        let with_backbone = e.physics().constants().alpha != 0.0;
        let spec = e.model_spec();
        assert!(matches!(spec.kind, StateKind::Spectral { .. }));
        for net_config in spectral_nets(with_backbone) {
            let what = format!("{path} / {backbone} / {net_config:?}");
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
            let net = build_from_config(&net_config, spec.kind, spec.hermite, vb).unwrap();
            init_seeded(&vm, 3).unwrap();
            randomise(&vm, 4);
            let mut rng = genads_runtime::rng::seeded(7);
            let state = e.prior(&mut rng, 3).unwrap();
            for t in [0.1, 0.6] {
                let times = vec![t; 3];
                let residual = genads_runtime::sample::network_residual(
                    e.physics(),
                    &*net,
                    e.modes(),
                    &state,
                    &times,
                )
                .unwrap();
                let trained = genads_runtime::flow::velocity_t(
                    e.physics(),
                    &state,
                    &times,
                    &residual,
                    e.modes(),
                )
                .unwrap();
                let sampled =
                    genads_runtime::sample::flow_velocity(e.physics(), &*net, e.modes(), &state, t)
                        .unwrap();
                assert!(max_diff(&trained, &sampled) < 1e-5, "{what}, t = {t}");
                if net.wants_backbone() {
                    // The gate is active: the network's bare forward differs from the residual it
                    // was trained with, so a sampler that called it would fail the check above.
                    let bare = net
                        .forward(
                            &state,
                            &Tensor::from_vec(vec![t as f32; 3], 3, &Device::Cpu).unwrap(),
                        )
                        .unwrap();
                    assert!(max_diff(&bare, &residual) > 1e-3, "{what}: gate inactive");
                }
            }
        }
    }
}

/// The objective's loss is the flow loss of [`genads_runtime::sample::network_residual`] on its
/// own draw: replaying the draw with the same RNG gives the same number.
#[test]
fn objective_fits_the_shared_residual() {
    let e = experiment("linear", "klein_gordon");
    let spec = e.model_spec();
    let net_config = spectral_nets(true).pop().unwrap();
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let net = build_from_config(&net_config, spec.kind, spec.hermite, vb).unwrap();
    init_seeded(&vm, 3).unwrap();
    randomise(&vm, 5);
    let mut objective = e.objective();
    let loss = genads_runtime::train::Objective::loss(
        &mut objective,
        &*net,
        &mut genads_runtime::rng::seeded(11),
        4,
    )
    .unwrap()
    .to_scalar::<f32>()
    .unwrap();
    let (state, t, target, r) = objective
        .draw(&mut genads_runtime::rng::seeded(11), 4)
        .unwrap();
    let residual =
        genads_runtime::sample::network_residual(e.physics(), &*net, e.modes(), &state, &t)
            .unwrap();
    let replay = genads_runtime::loss::flow_loss(e.physics(), &residual, &target, &r)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(
        (loss - replay).abs() <= 1e-5 * loss.abs().max(1.0),
        "{loss} vs {replay}"
    );
}

/// The default (`quick`) network of the holographic checkerboard models starts from weights that
/// do not depend on the training data: two experiments with different training sets, the same
/// seed, and the CLI's initialisation path give identical variables. The `lattice` preset, whose
/// prior starts at the data's histogram, differs (so the comparison can fail).
#[test]
fn default_initialisation_ignores_the_data() {
    use genads_runtime::nn::Preset;
    use genads_runtime::train::{TrainConfig, Trainer};
    let initial = |preset: Preset, data_seed: u64| -> Vec<Vec<f32>> {
        let source = "model m { boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone off path linear }";
        let mut config = ExperimentConfig::checkerboard(source.into(), "test".into(), "m".into());
        config.train_size = 2000;
        config.data_seed = data_seed;
        let e = PointExperiment::new(config).unwrap();
        let train = TrainConfig::for_preset(preset, e.kind());
        let mut trainer =
            Trainer::new(train, e.model_spec(), None, serde_json::Value::Null).unwrap();
        if let Some(fractions) = e.box_fractions() {
            trainer.init_from_data(&fractions).unwrap();
        }
        let data = trainer.model_vars().data().lock().unwrap();
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        names
            .iter()
            .map(|n| data[*n].flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect()
    };
    assert!(matches!(
        TrainConfig::for_preset(
            Preset::Quick,
            StateKind::Spectral {
                channels: 4,
                modes: 16
            }
        )
        .net,
        NetConfig::Mixture(_)
    ));
    assert_eq!(initial(Preset::Quick, 1), initial(Preset::Quick, 2));
    assert_ne!(initial(Preset::Lattice, 1), initial(Preset::Lattice, 2));
}

/// The device boundary ([`genads_runtime::device::OnDevice`], what every network on a GPU sits
/// behind) changes nothing: the same sampler velocity, backbone gate and gradients as the bare
/// network, for every network kind. On the CPU the moves are the identity, so this checks that
/// the wrapper forwards the backbone, the gate and the gradient path.
#[test]
fn a_network_behind_the_device_boundary_is_the_same_network() {
    use genads_runtime::device::OnDevice;
    use genads_runtime::nn::VelocityNet;
    let e = experiment("linear", "klein_gordon");
    let spec = e.model_spec();
    for net_config in spectral_nets(true) {
        let what = format!("{net_config:?}");
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let net = build_from_config(&net_config, spec.kind, spec.hermite, vb).unwrap();
        init_seeded(&vm, 3).unwrap();
        randomise(&vm, 6);
        let mut rng = genads_runtime::rng::seeded(8);
        let state = e.prior(&mut rng, 3).unwrap();
        let times = vec![0.4; 3];
        let probe = |net: &dyn VelocityNet| {
            let residual = genads_runtime::sample::network_residual(
                e.physics(),
                net,
                e.modes(),
                &state,
                &times,
            )
            .unwrap();
            let grads = (residual.phi.sqr().unwrap().sum_all().unwrap()
                + residual.pi.sqr().unwrap().sum_all().unwrap())
            .unwrap()
            .backward()
            .unwrap();
            let grads: Vec<Vec<f32>> = vm
                .all_vars()
                .iter()
                .map(|v| match grads.get(v.as_tensor()) {
                    Some(g) => g.flatten_all().unwrap().to_vec1().unwrap(),
                    None => Vec::new(),
                })
                .collect();
            let gate =
                genads_runtime::nn::backbone_gate_coefficients(net, spec.kind, 0.4, &Device::Cpu)
                    .unwrap();
            (residual, grads, gate, net.wants_backbone())
        };
        let (residual, grads, gate, wants) = probe(&*net);
        let wrapped = OnDevice::new(net, Device::Cpu);
        let (residual_w, grads_w, gate_w, wants_w) = probe(&wrapped);
        assert_eq!(max_diff(&residual, &residual_w), 0.0, "{what}");
        assert!(grads.iter().any(|g| !g.is_empty()), "{what}: no gradient");
        assert_eq!(grads, grads_w, "{what}");
        assert_eq!(gate, gate_w, "{what}");
        assert_eq!(wants, wants_w, "{what}");
    }
}
