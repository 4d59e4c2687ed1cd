//! Inputs the fuzzers found or that seed them (`tests/fuzz_regressions/`),
//! run through both fuzz entry points: none may panic.

use sg_egress_rule::fuzzing::{decode_and_evaluate_event, read_and_evaluate_input};

#[test]
fn regression_inputs_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        decode_and_evaluate_event(&data);
        read_and_evaluate_input(&data);
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {dir}");
}

#[test]
fn the_bundled_events_decode_through_the_fuzz_entry_points() {
    for name in [
        "change-noncompliant",
        "change-compliant",
        "change-deleted",
        "oversized",
        "scheduled",
        "rule-parameters",
    ] {
        let data =
            std::fs::read(format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(decode_and_evaluate_event(&data), "{name}");
        assert!(read_and_evaluate_input(&data), "{name}");
    }
}
