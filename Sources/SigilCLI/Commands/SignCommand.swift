import ArgumentParser
import Foundation
import SigilCore
import SigilOperations
import SigilSigning
import SigilStore

struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print the decorated request: the URL resolved, the Authorization and custom headers added.",
        discussion: """
            Options follow curl: -X sets the method (default GET, or POST with -d), -H adds a header, \
            -d or --data-file gives the body. The URL is last: callout:NAME/path?query, or an absolute \
            URL under one named credential's base URL. The output holds secrets: it is the request \
            you asked for.
            """
    )

    @OptionGroup var options: VaultOptions

    @OptionGroup var request: RequestOptions

    @OptionGroup var expiry: ExpiryOptions

    @Option(help: ArgumentHelp("Sign as of this instant (ISO 8601, e.g. 2015-08-30T12:36:00Z).", valueName: "time"))
    var at: String?

    @Flag(help: "Print {method, url, headers: [[name, value]], body_base64} as JSON.")
    var json = false

    @Flag(
        help:
            "Print the steps taken (callout, principal, protocol, headers, SigV4 canonical request) instead of the request, every secret replaced by a keyed fingerprint."
    )
    var explain = false

    func run() async throws {
        let outbound = try request.request()
        let date = try SigningTime.parse(at)
        let trace = explain ? SigningTrace() : nil
        let (signed, vault) = try await EngineSession.with(options, retryingAfterKeyRotation: true) { session in
            (try await session.engine.decorate(outbound, as: request.user, at: date, trace: trace), session.vault)
        }
        if let warning = expiry.warning(for: signed, at: date) { Output.note(warning) }
        if let trace {
            print(trace.render(fingerprint: vault.fingerprint))
            return
        }
        if json {
            try Output.json(DecoratedRequestJSON(signed))
            return
        }
        // One unbuffered channel for the head and the body, so a pipe gets them in order.
        var head = "\(signed.method) \(signed.url)\n"
        for header in signed.headers { head += "\(header.name): \(header.value)\n" }
        FileHandle.standardOutput.write(Data(head.utf8))
        if let bytes = signed.body {
            FileHandle.standardOutput.write(Data("\n".utf8) + Data(bytes))
        }
    }
}
