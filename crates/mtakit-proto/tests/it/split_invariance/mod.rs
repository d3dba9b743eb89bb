//! Property tests: how the input is split into reads never changes what
//! the session does, and no input makes it panic or send a malformed reply.

mod dialogues;
mod robustness;
