import ArgumentParser
import Foundation
import SigilCLI
import SigilCore

@main
struct Sigil {
    static func main() async {
        // Unsealed secrets live in this process's memory; a crash must not write them to a core file.
        ProcessHardening.disableCoreDumps()
        // Nor print a backtrace with registers and memory to the terminal.
        ProcessHardening.replaceCrashReports()
        // A child opening one PKCS#12 bundle for its parent (see PKCS12Child).
        if CommandLine.arguments.dropFirst().first == PKCS12Child.argument { exit(PKCS12Child.run()) }
        PKCS12Child.install()
        await SigilCommand.main()
    }
}
