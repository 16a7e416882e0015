import ArgumentParser
import Foundation
import Logging
import SigilModel
import SigilService
import SigilStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP service on the vault: sign, presign and proxy for authenticated callers.",
        discussion: """
            Callers authenticate with HTTP Basic (`sigil user set-password`) or an API key \
            (`sigil apikey create`); roles come from the apply file's roles:. Plain HTTP is only \
            for loopback: any other address needs --tls-cert and --tls-key. SIGTERM or SIGINT \
            stops accepting connections, lets the requests in flight finish, writes the last use \
            records and exits 0. The API is described at GET /openapi.json. People use the pages \
            in a browser: /connections (their own per-user authorizations) and, for operators, \
            /credentials, /expiry and /audit. Secrets whose rotation policy makes values are \
            rotated when due (--rotation-interval), one process at a time per principal.
            """
    )

    @OptionGroup var options: VaultOptions

    @Option(help: ArgumentHelp("Where to listen (port 0 picks a free one).", valueName: "host:port"))
    var listen = ServiceOptions.defaultListen

    @Option(help: ArgumentHelp("The server's certificate chain (PEM).", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The server's private key (PEM).", valueName: "file"))
    var tlsKey: String?

    @Option(
        help: ArgumentHelp(
            "Write {\"pid\": ..., \"url\": ...} here once connections are accepted.", valueName: "file"))
    var readyFile: String?

    @Option(
        help: ArgumentHelp(
            "The service's URL as browsers reach it, when not the listening one (behind a proxy): the OAuth callback is its /oauth/callback.",
            valueName: "url"))
    var publicURL: String?

    @Option(
        help: ArgumentHelp(
            "How often to look for due rotations and run them (each principal under its rotation lease); 0 turns it off.",
            valueName: "duration"))
    var rotationInterval = "5m"

    @Option(
        help: ArgumentHelp(
            "Spread rotations that fall due together over this long (each principal gets a fixed share).",
            valueName: "duration"))
    var rotationSpread = "1h"

    func run() async throws {
        var serviceOptions = try ServiceOptions(
            listen: listen, tlsCertificate: tlsCert, tlsKey: tlsKey, readyFile: readyFile, publicURL: publicURL)
        guard let interval = RotationPolicy.seconds(rotationInterval),
            let spread = RotationPolicy.seconds(rotationSpread)
        else {
            throw ValidationError("--rotation-interval and --rotation-spread: durations such as 5m, 1h or 0")
        }
        serviceOptions.rotationInterval = interval == 0 ? nil : .seconds(interval)
        serviceOptions.rotationSpread = TimeInterval(spread)
        LoggingSystem.bootstrap(ServiceLogHandler.init)
        var logger = Logger(label: "sigil")
        logger.logLevel = .info
        // Changes the service makes on its own (a refreshed token) are the service's in the audit
        // log; a caller's changes are the caller's.
        let vault = try options.open().acting(as: "service")
        try await SigilServer(vault: vault, logger: logger).run(serviceOptions, logger: logger)
    }
}
