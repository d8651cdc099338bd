//! `rudder-scheduler`. Not implemented yet.

fn main() {
    eprintln!("rudder-scheduler: not implemented yet");
    std::process::exit(1);
}
