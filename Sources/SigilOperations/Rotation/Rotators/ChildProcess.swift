import Foundation
import SigilCore
import SigilTokens

#if canImport(Glibc)
import Glibc
#endif

/// Runs an executable with bounded time and output, for the command rotator: spawned in its own
/// process group (so that a time-out ends it and everything it started), with the environment
/// given and nothing else, `input` on standard input, standard output kept in secret memory.
enum ChildProcess {
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
        case outputTooLong
    }

    struct Result {
        var ending: Ending
        var output: SecretBytes
        /// The last 4 KiB of standard error.
        var errors: [UInt8]
    }

    /// Runs off the cooperative pool: the wait blocks a thread.
    static func run(
        path: String, arguments: [String], environment: [String], input: SecretBytes, timeout: Duration,
        maximumOutput: Int
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Swift.Result {
                        try runBlocking(
                            path: path, arguments: arguments, environment: environment, input: input, timeout: timeout,
                            maximumOutput: maximumOutput)
                    })
            }
        }
    }

    private static func runBlocking(
        path: String, arguments: [String], environment: [String], input: SecretBytes, timeout: Duration,
        maximumOutput: Int
    ) throws -> Result {
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            throw SigilError(.providerFailed, "the command rotator could not be started: no pipes (errno \(errno))")
        }
        // Not inherited by other children spawned meanwhile (dup2 clears the flag on 0, 1 and 2).
        for fd in stdinPipe + stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard spawned == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw SigilError(
                .providerFailed,
                "the command rotator \(path) could not be started: \(String(cString: strerror(spawned)))")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var output = [UInt8]()
        var errors = [UInt8]()
        defer { output.wipe() }
        var written = 0
        var inputOpen = true
        var ending: Ending?
        var open: Set<Int32> = [stdoutPipe[0], stderrPipe[0]]
        _ = fcntl(stdinPipe[1], F_SETFL, fcntl(stdinPipe[1], F_GETFL) | O_NONBLOCK)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        defer { chunk.wipe() }
        while !open.isEmpty || inputOpen {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero {
                ending = .timedOut
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if inputOpen { fds.append(pollfd(fd: stdinPipe[1], events: Int16(POLLOUT), revents: 0)) }
            let milliseconds = Int32(min(remaining.components.seconds * 1000 + 1, 1000))
            guard poll(&fds, nfds_t(fds.count), milliseconds) >= 0 || errno == EINTR else { break }
            for descriptor in fds where descriptor.revents != 0 {
                if descriptor.fd == stdinPipe[1] {
                    let count = input.withUnsafeBytes { bytes in
                        Glibc.write(stdinPipe[1], bytes.baseAddress! + written, bytes.count - written)
                    }
                    if count > 0 { written += count }
                    if count < 0 && errno != EAGAIN || written == input.count
                        || descriptor.revents & Int16(POLLERR | POLLHUP) != 0
                    {
                        close(stdinPipe[1])
                        inputOpen = false
                    }
                    continue
                }
                let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor.fd, $0.baseAddress!, $0.count) }
                if count <= 0 {
                    if count == 0 || errno != EINTR && errno != EAGAIN {
                        close(descriptor.fd)
                        open.remove(descriptor.fd)
                    }
                } else if descriptor.fd == stdoutPipe[0] {
                    output.append(contentsOf: chunk[0..<count])
                    if output.count > maximumOutput { ending = .outputTooLong }
                } else {
                    errors.append(contentsOf: chunk[0..<count])
                    if errors.count > 4096 { errors.removeFirst(errors.count - 4096) }
                }
            }
            if ending != nil { break }
        }
        if inputOpen { close(stdinPipe[1]) }
        for fd in open { close(fd) }
        if ending != nil {
            // The whole process group: what the command started ends with it.
            kill(-pid, SIGKILL)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if ending == nil {
            let signal = status & 0x7F
            ending = signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
        }
        return Result(ending: ending!, output: SecretBytes(copying: output), errors: errors)
    }
}
