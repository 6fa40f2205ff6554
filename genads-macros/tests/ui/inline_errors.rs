extern crate genads_macros as genads;
// Inline source: DSL errors point at the offending token.
genads::genads_model! {
    model too_light {
        boundary 2
        warp exp(r)
        radial 0 -> 1
        field delta 0.8
        backbone klein_gordon stabilised
        path linear
    }
}

genads::genads_model! {
    model unknown_symbol {
        boundary 2
        warp exp(q * r)
        radial 0 -> 1
        field delta 1.5
        backbone klein_gordon stabilised
        path linear
    }
}

genads::genads_model! {
    colour = "blue";
    model m { boundary 2 }
}

fn main() {}
