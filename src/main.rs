fn main() {
    println!("jak-sle-cds: not yet wired");
}
