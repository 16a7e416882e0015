import BenchmarkSupport
import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore

/// The same five requests through the engine's whole decorate, on a real sealed vault (SQLite file,
/// libsodium sealing): callout resolution, principal choice, secrets, signature. Each request goes
/// to a named credential of its own, whose external credential has the request's service and keys.
/// `Content-Length` is left out (the HTTP client sets framing headers; the engine refuses them), so
/// these signatures differ from the bare signer's.
enum EngineVault {
    static func make() throws -> (SigningEngine, [OutboundRequest], directory: String) {
        let directory = NSTemporaryDirectory() + "sigil-sigv4-engine-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let vault = try Vault.create(at: directory + "/vault.db", key: .key(MasterKey.generate()), actor: "benchmark")
        var externals: [ExternalCredential] = []
        var named: [NamedCredential] = []
        var secrets: [SecretTarget: SecretBytes] = [:]
        var requests: [OutboundRequest] = []
        for (index, item) in SigV4Workload.items().enumerated() {
            let name = "aws\(index)"
            let url = URL(string: item.url)!
            let base = "\(url.scheme!)://\(url.host!)"
            externals.append(
                ExternalCredential(
                    name: name, authProtocol: .awsSigV4,
                    parameters: ["region": item.signer.region, "service": item.signer.service],
                    principals: [Principal(name: "p", type: .named, sequence: 1)]
                ))
            named.append(NamedCredential(name: name, url: base, externalCredential: name))
            let owner = SecretOwner.principal(PrincipalRef(externalCredential: name, principal: "p"))
            secrets[SecretTarget(owner: owner, field: "accessKeyId")] = SecretBytes(
                utf8: item.signer.credentials.accessKeyID)
            secrets[SecretTarget(owner: owner, field: "secretAccessKey")] = item.signer.credentials.secretAccessKey
            if let token = item.signer.credentials.sessionToken {
                secrets[SecretTarget(owner: owner, field: "sessionToken")] = SecretBytes(utf8: token)
            }
            let path = String(item.url.dropFirst(base.count))
            requests.append(
                OutboundRequest(
                    method: item.method, url: "callout:\(name)" + path,
                    headers: item.headers.filter { $0.name.lowercased() != "content-length" },
                    body: item.body.isEmpty ? .none : .bytes(item.body)
                ))
        }
        try vault.apply(
            ApplyRequest(catalog: Catalog(externalCredentials: externals, namedCredentials: named), secrets: secrets))
        return (SigningEngine(source: vault), requests, directory)
    }
}
