//! The large benchmark set, at a small scale.

use rapko_test::big_package_set;

use crate::check::{datahashes, describe};

#[test]
fn big_set_is_deterministic_and_sized() {
    let total = 3 * 1024 * 1024 + 17;
    let set = big_package_set(total, 3, 42);
    assert_eq!(set.len(), 3);
    let names: Vec<&str> = set.iter().map(|a| a.name()).collect();
    assert_eq!(names, ["big-0000", "big-0001", "big-0002"]);
    assert_eq!(set[0].meta.depends, ["big-0001", "big-0002"]);
    let content: u64 = set.iter().map(|a| a.meta.installed_size).sum();
    assert_eq!(content, total);
    let compressed: usize = set.iter().map(|a| a.bytes.len()).sum();
    assert!(
        compressed as f64 > 0.7 * total as f64,
        "too compressible: {compressed} of {total}"
    );
    let again = big_package_set(total, 3, 42);
    assert!(set.iter().zip(&again).all(|(a, b)| a.bytes == b.bytes));
    let other = big_package_set(total, 3, 43);
    assert_ne!(set[1].bytes, other[1].bytes);

    let Some(d) = describe(&set[2].bytes) else {
        return;
    };
    let (actual, declared) = datahashes(&d, 1);
    assert_eq!(actual, declared);
}
