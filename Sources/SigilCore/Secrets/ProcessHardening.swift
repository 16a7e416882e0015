#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide measures for a program that holds unsealed secrets.
public enum ProcessHardening {
    /// Turns off core dumps, so a crash does not write unsealed secrets to disk. Returns whether
    /// the limit was set.
    @discardableResult
    public static func disableCoreDumps() -> Bool {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        #if canImport(Glibc)
        return setrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0
        #else
        return setrlimit(RLIMIT_CORE, &limit) == 0
        #endif
    }

    /// Replaces the crash reporter: on a fatal signal (a trap from `fatalError` or a failed
    /// precondition, a bad access, an abort) the process writes one fixed line to standard error and
    /// exits with status 70, instead of letting Swift's backtracer print registers and memory
    /// around them, which may hold secret bytes. `fatalError`'s own message (code's text, never a
    /// value) still comes first.
    public static func replaceCrashReports() {
        for fatal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
            signal(fatal, reportCrash)
        }
    }
}

/// Only async-signal-safe calls: `write` of a constant and `_exit`.
private func reportCrash(_ signal: Int32) {
    let line: StaticString =
        "sigil: internal error (a fatal signal); no crash report is printed, since it could show secrets\n"
    _ = write(2, line.utf8Start, line.utf8CodeUnitCount)
    _exit(70)
}
