#if DEBUG
#if canImport(Glibc)
import Glibc
#endif
#endif

/// Named points inside the rotation steps where the crash tests stop the process as `kill -9`
/// would (`SIGIL_TEST_CRASH_AT=NAME`), to prove that every step resumes. Compiled into debug
/// builds only: a release build ignores the variable.
enum CrashPoint {
    #if DEBUG
    private static let target = getenv("SIGIL_TEST_CRASH_AT").map { String(cString: $0) }
    #endif

    @inline(__always)
    static func here(_ name: StaticString) {
        #if DEBUG
        if let target, target == "\(name)" {
            kill(getpid(), SIGKILL)
        }
        #endif
    }
}
