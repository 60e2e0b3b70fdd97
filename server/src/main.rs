//! The `ringkv` binary.

fn main() {
    println!("ringkv");
}
