import Foundation
import SigilModel
import SigilOperations
import SigilStore

extension CatalogView {
    // MARK: Text

    static func describe(_ statuses: [SecretStatus]) -> String {
        guard !statuses.isEmpty else { return "none" }
        return statuses.map { status in
            let versions = status.versions.map { "v\($0.version) \($0.stage)" }.joined(separator: ", ")
            return "\(status.field) set (\(versions))"
        }.joined(separator: "; ")
    }

    func printExternalCredential(_ credential: ExternalCredentialView, detailed: Bool) {
        print("External credential \(credential.name) (protocol \(credential.protocol))")
        if detailed {
            for (key, value) in credential.parameters.sorted(by: { $0.key < $1.key }) {
                print("  parameter \(key): \(value)")
            }
            for header in credential.customHeaders { print("  header \(header.name): \(header.value)") }
            print(
                "  used by: \(credential.usedBy.isEmpty ? "no named credential" : credential.usedBy.joined(separator: ", "))"
            )
        }
        for principal in credential.principals {
            print(
                "  principal \(principal.name): \(principal.type), sequence \(principal.sequence); secrets: \(Self.describe(principal.secrets))"
            )
            if detailed {
                for (key, value) in principal.parameters.sorted(by: { $0.key < $1.key }) {
                    print("    parameter \(key): \(value)")
                }
                print(
                    "    granted to: \(principal.grantedTo.isEmpty ? "nobody" : principal.grantedTo.joined(separator: ", "))"
                )
            }
        }
    }

    func printNamedCredential(_ credential: NamedCredentialView, detailed: Bool) {
        print("Named credential \(credential.name): \(credential.url) via \(credential.externalCredential)")
        if detailed {
            print("  generateAuthorizationHeader: \(credential.generateAuthorizationHeader)")
            print("  allowMergeFieldsInHeader: \(credential.allowMergeFieldsInHeader)")
            print("  allowMergeFieldsInBody: \(credential.allowMergeFieldsInBody)")
            for header in credential.customHeaders { print("  header \(header.name): \(header.value)") }
        }
        if let identity = credential.clientIdentity {
            print(
                "  client identity: certificate set; private key \(identity.privateKey.map { Self.describe([$0]) } ?? "unset")"
            )
            if detailed, let subject = identity.subject, let issuer = identity.issuer,
                let notBefore = identity.notBefore,
                let notAfter = identity.notAfter, let daysLeft = identity.daysLeft
            {
                print("    subject: \(subject)")
                print("    issuer: \(issuer)")
                print("    valid: \(notBefore) to \(notAfter) (\(daysLeft < 0 ? "expired" : "\(daysLeft) days left"))")
                if let pin = identity.pin { print("    pin: \(pin)") }
            }
            if let warning = identity.warning { print("  warning: \(warning)") }
        }
        if detailed, let trust = credential.trust {
            print(
                "  trust: CA bundle \(trust.caBundle); pins: \(trust.pins.isEmpty ? "none" : trust.pins.joined(separator: ", "))"
            )
        }
    }
}
