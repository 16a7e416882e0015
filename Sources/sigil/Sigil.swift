import ArgumentParser
import SigilCLI

@main
struct Sigil {
    static func main() {
        SigilCommand.main()
    }
}
