import ArgumentParser
import Foundation
import SigilModel
import SigilOperations
import SigilSigning
import SigilStore
import SigilTokens

struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Credentials obtained from providers: OAuth 2.0 tokens, STS credentials.",
        subcommands: [LoginCommand.self, StatusCommand.self, RevokeCommand.self]
    )

    struct LoginCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login",
            abstract:
                "Authorize an OAuth 2.0 principal in a browser (authorization code with PKCE) or with a device code.",
            discussion: """
                The browser login prints the authorization URL and waits for the provider's redirect on \
                the principal's redirectUri (a loopback http URL, RFC 8252). --device prints a code to \
                enter at the provider's verification page and waits for approval. The tokens are sealed \
                in the vault as the user's authorization; nothing secret is printed.
                """
        )

        @OptionGroup var options: VaultOptions

        @Option(
            name: .customLong("as"),
            help: "The user who authorizes their per-user principal (default: the credential's first named principal).")
        var user: String?

        @Flag(help: "Use the device authorization grant (RFC 8628) instead of a browser redirect.")
        var device = false

        @Option(help: "A login_hint for the provider's login page.")
        var loginHint: String?

        @Option(help: "Seconds to wait for the authorization (default 300).")
        var timeout = 300

        @Argument(help: "The external credential (protocol oauth2).")
        var externalCredential: String

        func run() async throws {
            try await EngineSession.with(options) { session in
                let request = try session.engine.loginRequest(externalCredential: externalCredential, as: user)
                let login = OAuthLogin(broker: session.broker)
                if device {
                    let authorization = try await login.beginDevice(request)
                    Output.line(
                        "To authorize \(request.key), open \(authorization.verificationURIComplete ?? authorization.verificationURI) and enter the code \(authorization.userCode)"
                    )
                    try await login.completeDevice(request, authorization)
                } else {
                    let authorization = try login.beginCode(request, loginHint: loginHint)
                    let callback = try await LoopbackRedirect.receive(
                        redirectURI: authorization.redirectURI, state: authorization.state, timeout: .seconds(timeout)
                    ) {
                        Output.line("To authorize \(request.key), open this URL in a browser:\n\(authorization.url)")
                    }
                    try await login.completeCode(request, authorization, callback: callback)
                }
                Output.line("authorized \(request.key)")
            }
        }
    }

    struct RevokeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract:
                "Revoke a principal's tokens at the provider (RFC 7009) and forget them; a user's authorization is removed.",
            discussion: "The outcome (revoked, not revoked and why, failed) is printed and recorded in the audit log."
        )

        @OptionGroup var options: VaultOptions

        @Option(
            name: .customLong("as"),
            help: "The user whose authorization is revoked (default: the credential's first named principal).")
        var user: String?

        @Argument(help: "The external credential.")
        var externalCredential: String

        func run() async throws {
            try await EngineSession.with(options) { session in
                let request = try session.engine.loginRequest(externalCredential: externalCredential, as: user)
                Output.line("\(request.key): \(try await session.broker.revoke(request))")
                if let user = request.key.user {
                    try? session.vault.delete(.authorization(request.key.principal, user: user))
                }
            }
        }
    }

    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract:
                "Per principal and user of every credential obtained from a provider: state, expiry, last refresh, last error. Never a value.",
            discussion: """
                States: configured (nothing obtained yet), current, expired (renewed on next use), \
                needs-reauthorization (a person must run `sigil auth login` again), not authorized \
                (a per-user principal the user has not authorized).
                """
        )

        @OptionGroup var options: VaultOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let rows = try IssuedCredentialState.all(in: try options.open())
            if json {
                try Output.json(rows)
                return
            }
            guard !rows.isEmpty else {
                print("no credential is obtained from a provider (OAuth 2.0, or AWS with roleArn)")
                return
            }
            var table = [["PRINCIPAL", "USER", "KIND", "STATE", "EXPIRES", "LAST REFRESH", "LAST ERROR"]]
            for row in rows {
                table.append([
                    row.principal, row.user ?? "-", row.kind, row.state, row.expiresAt ?? "-", row.lastRefresh ?? "-",
                    row.lastError ?? "-",
                ])
            }
            Output.table(table, indent: "")
        }
    }
}
