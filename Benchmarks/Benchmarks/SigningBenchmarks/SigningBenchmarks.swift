import Benchmark
import BenchmarkSupport
import Crypto
import CryptoExtras
import Foundation
import SigilCore
import SigilModel
@_spi(Benchmarking) import SigilSigning

// Time and allocations per signature, per protocol. The SigV4 benchmark signs the five-request
// workload (5 signatures per iteration); its "hashing floor" does only the unavoidable work for the
// same requests: SHA-256 of each payload and of a canonical request of the same length, and one
// HMAC with a cached key. JWT signing (the compact JWS from an already parsed key: header, claims
// with iat/nbf/exp/jti, base64url, signature) stands beside swift-crypto's raw signature for the
// algorithm, with the same key, over a signing input of the same length; the engine's whole JWT
// decorate is measured apart, as engine cost.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3))

    let workload = SigV4Workload.items()
    Benchmark("SigV4 workload, 5 signatures") { benchmark in
        for _ in benchmark.scaledIterations {
            for item in workload { blackHole(SigV4Workload.sign(item)) }
        }
    }

    let canonicalLengths = workload.map { SigV4Workload.canonicalRequestLength($0) }
    let signingKey = SymmetricKey(size: .bits256)
    Benchmark("SigV4 hashing floor, 5 requests") { benchmark in
        let canonical = canonicalLengths.map { [UInt8](repeating: 0x61, count: $0) }
        for _ in benchmark.scaledIterations {
            for (item, request) in zip(workload, canonical) {
                blackHole(SHA256.hash(data: item.body))
                blackHole(SHA256.hash(data: request))
                blackHole(HMAC<SHA256>.authenticationCode(for: request.prefix(130), using: signingKey))
            }
        }
    }

    let basic = SigningEngine(
        source: MemoryCredentials.single(
            .basic, secrets: ["password": SecretBytes(utf8: "open sesame")],
            principalParameters: ["username": "Aladdin"]))
    Benchmark("Basic, engine decorate") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await basic.decorate(OutboundRequest(url: "callout:Api/items")))
        }
    }

    let custom = SigningEngine(
        source: MemoryCredentials.single(
            .custom, secrets: ["apiKey": SecretBytes(utf8: "sk_live_0123456789")],
            headers: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Api.apiKey}")]))
    Benchmark("Custom header with a merge field, engine decorate") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await custom.decorate(OutboundRequest(url: "callout:Api/items")))
        }
    }

    // Issue 16's catalog (10,000 named credentials, 100,000 users each authorized on a per-user
    // principal) held as `sigil serve` holds it: each iteration decorates a request as a user drawn at
    // random, so the engine's per-user cache (4,096 users) almost never has them and the user's
    // authorization is looked up in the catalog (resolve the callout, find the user, check the grant,
    // find the authorization, read the user's token). Its p99 is the lookup figure, with the decorate
    // around it.
    let large = SigningEngine(source: MemoryCredentials.large(credentials: 10_000, users: 100_000))
    Benchmark(
        "Per-user decorate, 100,000 authorizations, 10,000 named credentials",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 100_000)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try await large.decorate(
                    OutboundRequest(url: "callout:U/items"), as: "u\(Int.random(in: 0..<100_000))"))
        }
    }

    // JWT through the engine: resolving the callout, choosing the principal, reading the secret and
    // parameters, rendering merge fields, then signing. Reported as engine cost.
    let p256 = P256.Signing.PrivateKey()
    let p384 = P384.Signing.PrivateKey()
    let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let ed = Curve25519.Signing.PrivateKey()
    let hmacKeys = [32, 48, 64].map { SecretBytes.random(count: $0) }
    for (algorithm, key) in [
        ("HS256", hmacKeys[0]), ("ES256", SecretBytes(utf8: p256.pemRepresentation)),
        ("RS256", SecretBytes(utf8: rsa.pemRepresentation)), ("EdDSA", SecretBytes(utf8: ed.pemRepresentation)),
    ] {
        let engine = SigningEngine(
            source: MemoryCredentials.single(
                .jwt, parameters: ["algorithm": algorithm, "iss": "client", "aud": "https://api.example.com"],
                secrets: ["signingKey": key]))
        Benchmark("JWT \(algorithm), engine decorate") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await engine.decorate(OutboundRequest(url: "callout:Api/items")))
            }
        }
    }

    // JWT signing itself beside the raw signature: the same key objects, and a message as long as the
    // token's signing input (base64url header, ".", base64url claims).
    let claims = [(name: "iss", value: "client"), (name: "aud", value: "https://api.example.com")]
    let hmac = hmacKeys.map { key in key.withUnsafeBytes { SymmetricKey(data: $0) } }
    let rawSignatures: [(JWTAlgorithm, SecretBytes, ([UInt8]) throws -> Void)] = [
        (.hs256, hmacKeys[0], { blackHole(HMAC<SHA256>.authenticationCode(for: $0, using: hmac[0])) }),
        (.hs384, hmacKeys[1], { blackHole(HMAC<SHA384>.authenticationCode(for: $0, using: hmac[1])) }),
        (.hs512, hmacKeys[2], { blackHole(HMAC<SHA512>.authenticationCode(for: $0, using: hmac[2])) }),
        (
            .rs256, SecretBytes(utf8: rsa.pemRepresentation),
            { blackHole(try rsa.signature(for: SHA256.hash(data: $0), padding: .insecurePKCS1v1_5)) }
        ),
        (
            .rs384, SecretBytes(utf8: rsa.pemRepresentation),
            { blackHole(try rsa.signature(for: SHA384.hash(data: $0), padding: .insecurePKCS1v1_5)) }
        ),
        (
            .rs512, SecretBytes(utf8: rsa.pemRepresentation),
            { blackHole(try rsa.signature(for: SHA512.hash(data: $0), padding: .insecurePKCS1v1_5)) }
        ),
        (
            .ps256, SecretBytes(utf8: rsa.pemRepresentation),
            { blackHole(try rsa.signature(for: SHA256.hash(data: $0), padding: .PSS)) }
        ),
        (.es256, SecretBytes(utf8: p256.pemRepresentation), { blackHole(try p256.signature(for: $0)) }),
        (.es384, SecretBytes(utf8: p384.pemRepresentation), { blackHole(try p384.signature(for: $0)) }),
        (.edDSA, SecretBytes(utf8: ed.pemRepresentation), { blackHole(try ed.signature(for: $0)) }),
    ]
    for (algorithm, key, raw) in rawSignatures {
        let signer = try! JWTSigner(algorithm: algorithm, key: key)
        let date = Date()
        let sample = try! signer.token(claims: claims, at: date)
        let message = [UInt8](
            repeating: 0x61, count: sample.utf8.count - 1 - sample.split(separator: ".").last!.utf8.count)
        Benchmark("JWT \(algorithm.rawValue) token") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try signer.token(claims: claims, at: date)) }
        }
        Benchmark("JWT \(algorithm.rawValue) raw signature") { benchmark in
            for _ in benchmark.scaledIterations { try raw(message) }
        }
    }
}
