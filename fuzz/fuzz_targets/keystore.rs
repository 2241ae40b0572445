//! `keystore::decrypt` on arbitrary bytes: it must return, never panic, and
//! never spend more than its bounds allow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rossignol_core::keystore::decrypt(data, b"fuzz");
});
