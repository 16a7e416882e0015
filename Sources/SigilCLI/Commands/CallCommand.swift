import ArgumentParser
import Foundation
import SigilCore
import SigilHTTP
import SigilSigning
import SigilStore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send a request through a named credential, like curl: the response body on standard output.",
        discussion: """
            Takes the options of `sigil sign`. The request is decorated and sent; when the resource \
            refuses an OAuth 2.0 token or STS credentials (401, or the credential's refreshOnStatus \
            and refreshOnBody), they are replaced once and the request retried once. A 429, 502, 503 \
            or 504 is retried (--retry times, idempotent methods only unless --retry-all), waiting as \
            Retry-After says. Redirects inside the named credential's endpoint are followed and \
            decorated again; one that leaves it is refused, or with --redirects drop-credentials \
            followed without any credential (--redirects off follows none). --data-file streams the \
            body (a file, or '-' for standard input); for SigV4 a file is hashed first, unless the \
            credential signs UNSIGNED-PAYLOAD or --payload-sha256 gives the hash. A progress bar is \
            shown on standard error when it is a terminal and the transfer is over 4 MiB (not with \
            --silent). Exit status: 0, or 1 for an error before or while sending; with --fail, 22 \
            for an HTTP status of 400 or more (as curl).
            """
    )

    @OptionGroup var options: VaultOptions

    @OptionGroup var request: RequestOptions

    @OptionGroup var expiry: ExpiryOptions

    @Flag(name: .short, help: "Print the status line and response headers before the body.")
    var i = false

    @Option(
        name: .short, help: ArgumentHelp("Write the body to this file instead of standard output.", valueName: "file"))
    var o: String?

    @Flag(help: "Exit with status 22 when the HTTP status is 400 or more.")
    var fail = false

    @Option(
        help:
            "Times to ask again after 429, 502, 503 or 504 (waiting as Retry-After says, else 0.5 s doubling; at most 30 s)."
    )
    var retry = 2

    @Flag(help: "Retry methods that are not idempotent (POST, PATCH) too.")
    var retryAll = false

    @Option(
        help: ArgumentHelp(
            "A redirect that leaves the named credential's endpoint: refuse (an error), drop-credentials (followed without any credential), or off (no redirect is followed; the 3xx is the answer).",
            valueName: "mode"))
    var redirects = "refuse"

    @Option(help: ArgumentHelp("Redirects followed at most.", valueName: "n"))
    var maxRedirs = 5

    @Option(help: ArgumentHelp("Seconds that connecting (TCP and TLS) may take.", valueName: "seconds"))
    var connectTimeout: Double = 10

    @Option(
        help: ArgumentHelp(
            "Seconds that the whole call may take, retries and redirects included (default: no limit).",
            valueName: "seconds"))
    var maxTime: Double?

    @Flag(name: [.short, .long], help: "No progress bar.")
    var silent = false

    func validate() throws {
        guard Executor.RedirectPolicy.Mode(rawValue: redirects) != nil else {
            throw ValidationError("--redirects \(redirects): expected refuse, drop-credentials or off")
        }
        guard maxRedirs >= 0 else { throw ValidationError("--max-redirs \(maxRedirs): expected 0 or more") }
        guard connectTimeout > 0, connectTimeout <= 3600 else {
            throw ValidationError("--connect-timeout \(connectTimeout): expected more than 0 and at most 3600 seconds")
        }
        if let maxTime {
            guard maxTime > 0, maxTime <= 86400 else {
                throw ValidationError("--max-time \(maxTime): expected more than 0 and at most 86400 seconds")
            }
        }
    }

    func run() async throws {
        let (outbound, body) = try request.streamedRequest()
        let bar = !silent && isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        let response = try await EngineSession.with(options) { session in
            // Once per command, however often the request is sent again.
            let warned = Mutex(false)
            let executor = Executor(
                engine: session.engine, connectTimeout: .milliseconds(Int(connectTimeout * 1000)),
                maximumTime: maxTime.map { .milliseconds(Int($0 * 1000)) },
                retry: .init(retries: max(0, retry), nonIdempotent: retryAll),
                redirects: .init(
                    mode: Executor.RedirectPolicy.Mode(rawValue: redirects) ?? .refuse, maximum: maxRedirs),
                progress: bar.map { bar in { @Sendable progress in bar.update(progress) } }
            ) { [expiry] decorated in
                guard let warning = expiry.warning(for: decorated) else { return }
                let first = warned.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { Output.note(warning) }
            }
            defer { bar?.finish() }
            // A 2xx body goes to -o or standard output as it arrives, not through memory (with -i
            // the head is printed first, so the body waits for it).
            // An answer may carry what the credential unlocked: a new file is private (0600) from
            // its first byte, whatever the umask; an existing file keeps its mode.
            let file = try o.map { path in
                let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard descriptor >= 0 else {
                    throw SigilError(
                        .storage, "cannot write the response to \(path): \(String(cString: strerror(errno)))")
                }
                return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            }
            defer { try? file?.close() }
            let destination = file ?? (i ? nil : FileHandle.standardOutput)
            do {
                let response = try await executor.send(
                    outbound, body: body, as: request.user,
                    download: destination.map { destination in
                        { @Sendable data in try destination.write(contentsOf: data) }
                    })
                try await executor.shutdown()
                return response
            } catch {
                try? await executor.shutdown()
                if let o { try? FileManager.default.removeItem(atPath: o) }  // no partial answer left behind
                throw error
            }
        }
        if i {
            var head = "HTTP/1.1 \(response.status)\r\n"
            for header in response.headers { head += "\(header.name): \(header.value)\r\n" }
            FileHandle.standardOutput.write(Data((head + "\r\n").utf8))
        }
        if let o {
            if !response.body.isEmpty {
                guard let handle = FileHandle(forWritingAtPath: o) else {
                    throw SigilError(.storage, "cannot write the response to \(o)")
                }
                defer { try? handle.close() }
                try handle.write(contentsOf: response.body)
            }
        } else {
            FileHandle.standardOutput.write(Data(response.body))
        }
        if fail && response.status >= 400 {
            Output.note("sigil call: the server answered HTTP \(response.status)")
            throw ExitCode(22)
        }
    }
}
