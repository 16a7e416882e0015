import ArgumentParser
import Foundation
import SigilCore
import SigilHTTP
import SigilSigning
import SigilStore
import Synchronization

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send a request through a named credential, like curl: the response body on standard output.",
        discussion: """
            Takes the options of `sigil sign`. The request is decorated and sent; when the resource \
            refuses an OAuth 2.0 token or STS credentials (401, or the credential's refreshOnStatus \
            and refreshOnBody), they are replaced once and the request retried once. A 429, 502, 503 \
            or 504 is retried (--retry times, idempotent methods only unless --retry-all), waiting as \
            Retry-After says. Redirects are not followed. Exit status: 0, or 1 for an error before or while sending; with --fail, \
            22 for an HTTP status of 400 or more (as curl).
            """
    )

    @OptionGroup var options: VaultOptions

    @OptionGroup var request: RequestOptions

    @OptionGroup var expiry: ExpiryOptions

    @Flag(name: .short, help: "Print the status line and response headers before the body.")
    var i = false

    @Option(name: .short, help: ArgumentHelp("Write the body to this file instead of standard output.", valueName: "file"))
    var o: String?

    @Flag(help: "Exit with status 22 when the HTTP status is 400 or more.")
    var fail = false

    @Option(help: "Times to ask again after 429, 502, 503 or 504 (waiting as Retry-After says, else 0.5 s doubling; at most 30 s).")
    var retry = 2

    @Flag(help: "Retry methods that are not idempotent (POST, PATCH) too.")
    var retryAll = false

    func run() async throws {
        let outbound = try request.request()
        let response = try await EngineSession.with(options) { session in
            // Once per command, however often the request is sent again.
            let warned = Mutex(false)
            let executor = Executor(engine: session.engine, retry: .init(retries: max(0, retry), nonIdempotent: retryAll)) { [expiry] decorated in
                guard let warning = expiry.warning(for: decorated) else { return }
                let first = warned.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { Output.note(warning) }
            }
            do {
                let response = try await executor.send(outbound, as: request.user)
                try await executor.shutdown()
                return response
            } catch {
                try? await executor.shutdown()
                throw error
            }
        }
        if i {
            var head = "HTTP/1.1 \(response.status)\r\n"
            for header in response.headers { head += "\(header.name): \(header.value)\r\n" }
            FileHandle.standardOutput.write(Data((head + "\r\n").utf8))
        }
        if let o {
            guard FileManager.default.createFile(atPath: o, contents: Data(response.body)) else {
                throw SigilError(.storage, "cannot write the response to \(o)")
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
