extern crate genads_macros as genads;
// File form: errors point at the `file = "…"` (or `model = "…"`) literal, with file:line:col.
genads::genads_model!(file = "bad_delta.genads");

genads::genads_model!(file = "does_not_exist.genads");

genads::genads_model!(file = "two_models.genads", model = "third");

genads::genads_model!(file = "two_models.genads");

fn main() {}
