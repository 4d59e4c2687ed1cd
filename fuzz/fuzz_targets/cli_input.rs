//! The CLI's input reader (every shape, several documents), then evaluation
//! and both output formats.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sg_egress_core::fuzzing::read_and_evaluate_input;

fuzz_target!(|data: &[u8]| {
    let _ = read_and_evaluate_input(data);
});
