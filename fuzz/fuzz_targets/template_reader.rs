//! `check`'s reader: CloudFormation templates (JSON and YAML, with short
//! forms, conditions and parameters) and Terraform plans, then the check
//! and its SARIF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sg_egress_core::fuzzing::read_and_check_template;

fuzz_target!(|data: &[u8]| {
    let _ = read_and_check_template(data);
});
