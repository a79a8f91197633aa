//! Local stand-ins for the outside services, speaking their documented wire
//! protocols, for the tests (and the demo).

pub mod gateway;
