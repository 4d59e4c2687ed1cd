//! Inputs the fuzzers found or that seed them (`tests/fuzz_regressions/`),
//! run through both fuzz entry points: none may panic, and each must give
//! exactly the outcome written here (the verdicts, or a refusal naming why).

use sg_egress_core::fuzzing::{decode_and_evaluate_event, read_and_evaluate_input, Outcome};
use sg_egress_core::Compliance::NonCompliant;

/// What an entry point must decide: these verdicts, or a refusal containing this.
enum Expected {
    Verdicts(&'static [(&'static str, sg_egress_core::Compliance)]),
    Refused(&'static str),
}
use Expected::{Refused, Verdicts};

/// (file, as a Lambda event, as CLI input).
const EXPECTED: &[(&str, Expected, Expected)] = &[
    (
        "bom-then-group.json",
        Refused("not valid JSON"),
        Verdicts(&[("sg-1", NonCompliant)]),
    ),
    (
        "float-port.json",
        Refused("invokingEvent is missing"),
        Refused("fromPort: expected an integer, found 65535.0000001"),
    ),
    (
        "invoking-event-not-json.json",
        Refused("invokingEvent: expected JSON text inside this string"),
        Refused("invokingEvent: expected JSON text inside this string"),
    ),
    (
        "invoking-event-text.bin",
        Refused("groupId: expected a string, found a number"),
        Refused("not valid JSON"),
    ),
    (
        "nested-arrays.json",
        Refused("event: expected an object, found an array"),
        Refused("recursion limit exceeded"),
    ),
];

fn check(file: &str, entry: &str, outcome: &Outcome, expected: &Expected) {
    match (outcome, expected) {
        (Ok(verdicts), Verdicts(want)) => {
            let want: Vec<(String, sg_egress_core::Compliance)> =
                want.iter().map(|(id, c)| (id.to_string(), *c)).collect();
            assert_eq!(verdicts, &want, "{file} through {entry}");
        }
        (Err(message), Refused(fragment)) => {
            assert!(
                message.contains(fragment),
                "{file} through {entry}: {message:?} should contain {fragment:?}"
            )
        }
        (got, _) => panic!("{file} through {entry}: unexpected {got:?}"),
    }
}

#[test]
fn regression_inputs_give_their_expected_outcomes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_regressions");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<&str> = EXPECTED.iter().map(|(f, _, _)| *f).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every regression input has its expected outcome here"
    );
    for (file, as_event, as_input) in EXPECTED {
        let data = std::fs::read(format!("{dir}/{file}")).unwrap();
        check(
            file,
            "the event decoder",
            &decode_and_evaluate_event(&data),
            as_event,
        );
        check(
            file,
            "the CLI reader",
            &read_and_evaluate_input(&data),
            as_input,
        );
    }
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
        let event = decode_and_evaluate_event(&data);
        let input = read_and_evaluate_input(&data);
        assert!(event.is_ok(), "{name}: {event:?}");
        assert_eq!(event, input, "{name}: both entry points agree");
    }
}

/// Inputs the template fuzzer found (`tests/fuzz_regressions_templates/`),
/// through its entry point: no panic (its annotations fit Config's limits,
/// its lines are in the file), and exactly these results.
#[test]
fn template_regression_inputs_give_their_expected_outcomes() {
    use sg_egress_core::fuzzing::read_and_check_template;
    use sg_egress_core::templates::Outcome::NotEvaluated;
    let expected: &[(&str, &[(&str, sg_egress_core::templates::Outcome)])] = &[
        // A Transform of 150 characters and no group: one result for the
        // template, its annotation cut to fit.
        ("long-transform-name.yaml", &[("Transform", NotEvaluated)]),
    ];
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz_regressions_templates"
    );
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let listed: Vec<&str> = expected.iter().map(|(f, _)| *f).collect();
    assert_eq!(files, listed, "every input has its expected outcome here");
    for (file, want) in expected {
        let data = std::fs::read(format!("{dir}/{file}")).unwrap();
        let got = read_and_check_template(&data).unwrap_or_else(|e| panic!("{file}: {e}"));
        let want: Vec<(String, sg_egress_core::templates::Outcome)> =
            want.iter().map(|(r, o)| (r.to_string(), *o)).collect();
        assert_eq!(got, want, "{file}");
    }
}
