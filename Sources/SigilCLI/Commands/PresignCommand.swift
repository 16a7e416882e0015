import ArgumentParser
import Foundation
import SigilSigning
import SigilStore

struct PresignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presign",
        abstract: "Print a presigned URL (AWS SigV4 query signing) that anyone holding it can use until it expires.",
        discussion: """
            Only for aws-sigv4 credentials. S3 presigned URLs sign UNSIGNED-PAYLOAD; other services the body's hash. \
            Headers given with -H are signed into the URL (X-Amz-SignedHeaders), as botocore's presigner does: \
            whoever uses the URL must send them with the same values (a browser upload's Content-Type or x-amz-acl, say).
            """
    )

    @OptionGroup var options: VaultOptions

    @Option(name: .customLong("as"), help: "The acting user.")
    var user: String?

    @Option(name: .short, help: ArgumentHelp("The method (default GET).", valueName: "method"))
    var X = "GET"

    @Option(
        name: .short,
        help: ArgumentHelp("A header to sign into the URL, 'Name: value'; repeatable.", valueName: "header"))
    var H: [String] = []

    @Option(help: "Seconds the URL stays valid, 1 to 604800.")
    var expires = 3600

    @Option(help: ArgumentHelp("Sign as of this instant (ISO 8601).", valueName: "time"))
    var at: String?

    @Argument(help: "callout:NAME/path?query, or an absolute URL.")
    var url: String

    func run() async throws {
        let date = try SigningTime.parse(at)
        let headers = try RequestOptions.headers(H)
        let presigned = try await EngineSession.with(options, retryingAfterKeyRotation: true) { session in
            try await session.engine.presign(
                OutboundRequest(method: X.uppercased(), url: url, headers: headers), as: user, at: date,
                expires: expires)
        }
        print(presigned)
    }
}
