import ArgumentParser
import Foundation
import SigilSigning
import SigilStore

struct PresignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presign",
        abstract: "Print a presigned URL (AWS SigV4 query signing) that anyone holding it can use until it expires.",
        discussion: "Only for aws-sigv4 credentials. S3 presigned URLs sign UNSIGNED-PAYLOAD; other services the body's hash."
    )

    @OptionGroup var options: VaultOptions

    @Option(name: .customLong("as"), help: "The acting user.")
    var user: String?

    @Option(name: .short, help: ArgumentHelp("The method (default GET).", valueName: "method"))
    var X = "GET"

    @Option(help: "Seconds the URL stays valid, 1 to 604800.")
    var expires = 3600

    @Option(help: ArgumentHelp("Sign as of this instant (ISO 8601).", valueName: "time"))
    var at: String?

    @Argument(help: "callout:NAME/path?query, or an absolute URL.")
    var url: String

    func run() async throws {
        let date = try SigningTime.parse(at)
        let presigned = try await EngineSession.with(options, retryingAfterKeyRotation: true) { session in
            try await session.engine.presign(OutboundRequest(method: X.uppercased(), url: url), as: user, at: date, expires: expires)
        }
        print(presigned)
    }
}
