import ArgumentParser
import SigilCLI
import SigilCore

@main
struct Sigil {
    static func main() {
        // Unsealed secrets live in this process's memory; a crash must not write them to a core file.
        ProcessHardening.disableCoreDumps()
        SigilCommand.main()
    }
}
