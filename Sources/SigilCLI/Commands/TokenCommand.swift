import ArgumentParser
import Foundation
import SigilCore
import SigilModel
import SigilSigning

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a current OAuth 2.0 access token of an external credential, for scripts.",
        discussion: """
            The token is the one `sigil sign` would send for the acting user: cached, or obtained or \
            refreshed now. It is a secret: the output is what you asked for. `--json` adds its expiry \
            and, from Salesforce, instance_url.
            """
    )

    @OptionGroup var options: VaultOptions

    @Option(name: .customLong("as"), help: "The acting user.")
    var user: String?

    @Flag(help: "Print JSON: access_token, expires_at, principal, instance_url.")
    var json = false

    @Argument(help: "The external credential (protocol oauth2).")
    var externalCredential: String

    func run() async throws {
        let (principal, issued) = try await EngineSession.with(options, retryingAfterKeyRotation: true) { session in
            try await session.engine.issuedCredential(externalCredential: externalCredential, as: user)
        }
        guard issued.kind == .oauth2, let token = issued.fields["accessToken"] else {
            throw SigilError(
                .unsupported,
                "external credential \(externalCredential) does not use OAuth 2.0; `sigil token` prints OAuth 2.0 access tokens"
            )
        }
        func text(_ value: SecretBytes?) -> String? { value?.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
        if json {
            struct View: Encodable {
                var access_token: String
                var expires_at: String?
                var principal: String
                var user: String?
                var instance_url: String?
            }
            try Output.json(
                View(
                    access_token: text(token)!,
                    expires_at: issued.expiresAt.map {
                        Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601)
                    },
                    principal: principal.description, user: user, instance_url: text(issued.fields["instanceUrl"])
                ))
        } else {
            print(text(token)!)
        }
    }
}
