//! The Lambda's event decoder, then evaluation: the bytes are either the whole
//! event, or (after a first byte 0x01) the text of its double-encoded `invokingEvent`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sg_egress_core::fuzzing::decode_and_evaluate_event;

fuzz_target!(|data: &[u8]| {
    let _ = decode_and_evaluate_event(data);
});
