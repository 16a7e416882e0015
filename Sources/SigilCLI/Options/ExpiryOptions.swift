import ArgumentParser
import Foundation
import SigilModel
import SigilSigning

/// `--expiry-warning-days`: how long before a client certificate expires `list`, `show`, `sign`
/// and `call` start to warn (default 30 days; an expired certificate is always reported).
struct ExpiryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Warn when a client certificate expires within this many days.", valueName: "days"))
    var expiryWarningDays = 30

    func validate() throws {
        guard expiryWarningDays >= 0 else { throw ValidationError("--expiry-warning-days must be 0 or more") }
    }

    /// A line for standard error when `request`'s client certificate has expired, is not yet
    /// valid, or expires within the window; `nil` otherwise.
    func warning(for request: DecoratedRequest, at now: Date = Date()) -> String? {
        guard let identity = request.clientIdentity,
            let leaf = try? CertificateInfo.chain(pem: identity.certificateChainPEM).first,
            leaf.status(at: now, warningDays: expiryWarningDays) != .valid
        else { return nil }
        return
            "sigil: warning: named credential \(request.namedCredential): client certificate \(leaf.summary(at: now, warningDays: expiryWarningDays))"
    }
}
