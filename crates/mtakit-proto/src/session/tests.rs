//! Unit tests of the session's private buffering.

use super::input::INPUT_KEEP;
use crate::ReplyCode;
use crate::testing::Harness;

#[test]
fn a_large_pipelined_batch_leaves_no_large_buffer_behind() {
    let mut h = Harness::new();
    h.greeting();
    let batch = "NOOP\r\n".repeat(3 * INPUT_KEEP / 6);
    let replies = h.send_raw(batch.as_bytes());
    assert_eq!(replies.len(), 3 * INPUT_KEEP / 6);
    assert!(replies.iter().all(|r| r.code() == ReplyCode::OK));
    assert_eq!(h.session().input_capacity(), 0);
}

#[test]
fn a_partial_line_after_a_large_batch_is_kept() {
    let mut h = Harness::new();
    h.greeting();
    let mut batch = "NOOP\r\n".repeat(3 * INPUT_KEEP / 6);
    batch.push_str("NO");
    let replies = h.send_raw(batch.as_bytes());
    assert_eq!(replies.len(), 3 * INPUT_KEEP / 6);
    assert!(h.session().input_capacity() > 0);
    let replies = h.send_raw(b"OP\r\n");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].code(), ReplyCode::OK);
}

#[test]
fn a_small_buffer_is_kept_for_reuse() {
    let mut h = Harness::new();
    h.greeting();
    h.send_raw(b"NOOP\r\n");
    let kept = h.session().input_capacity();
    assert!(kept > 0 && kept <= INPUT_KEEP);
}
