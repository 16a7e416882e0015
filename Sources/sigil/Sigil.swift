import ArgumentParser
import SigilCLI
import SigilCore

@main
struct Sigil {
    static func main() async {
        // Unsealed secrets live in this process's memory; a crash must not write them to a core file.
        ProcessHardening.disableCoreDumps()
        // Nor print a backtrace with registers and memory to the terminal.
        ProcessHardening.replaceCrashReports()
        await SigilCommand.main()
    }
}
