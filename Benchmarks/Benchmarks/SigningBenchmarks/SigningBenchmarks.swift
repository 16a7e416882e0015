import Benchmark
import BenchmarkSupport
import Crypto
import CryptoExtras
import Foundation
import SigilCore
import SigilModel
import SigilSigning

// Time and allocations per signature, per protocol. The SigV4 benchmark signs the five-request
// workload (5 signatures per iteration); its "hashing floor" does only the unavoidable work for the
// same requests: SHA-256 of each payload and of a canonical request of the same length, and one
// HMAC with a cached key. JWT benchmarks stand beside swift-crypto's raw signature for the algorithm.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3))

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

    let basic = SigningEngine(source: MemoryCredentials.single(.basic, secrets: ["password": SecretBytes(utf8: "open sesame")], principalParameters: ["username": "Aladdin"]))
    Benchmark("Basic, engine decorate") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await basic.decorate(OutboundRequest(url: "callout:Api/items")))
        }
    }

    let custom = SigningEngine(source: MemoryCredentials.single(.custom, secrets: ["apiKey": SecretBytes(utf8: "sk_live_0123456789")],
                                                                 headers: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Api.apiKey}")]))
    Benchmark("Custom header with a merge field, engine decorate") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await custom.decorate(OutboundRequest(url: "callout:Api/items")))
        }
    }

    // JWT: the engine's whole JWT (claims, header, signature) beside the raw signature alone.
    let p256 = P256.Signing.PrivateKey()
    let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let ed = Curve25519.Signing.PrivateKey()
    let hmacKey = SecretBytes.random(count: 32)
    let message = Array(repeating: UInt8(0x61), count: 300)
    for (algorithm, key) in [("HS256", hmacKey), ("ES256", SecretBytes(utf8: p256.pemRepresentation)),
                             ("RS256", SecretBytes(utf8: rsa.pemRepresentation)), ("EdDSA", SecretBytes(utf8: ed.pemRepresentation))] {
        let engine = SigningEngine(source: MemoryCredentials.single(.jwt, parameters: ["algorithm": algorithm, "iss": "client", "aud": "https://api.example.com"],
                                                                     secrets: ["signingKey": key]))
        Benchmark("JWT \(algorithm), engine decorate") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await engine.decorate(OutboundRequest(url: "callout:Api/items")))
            }
        }
    }
    Benchmark("HS256 raw HMAC") { benchmark in
        let key = hmacKey.withUnsafeBytes { SymmetricKey(data: $0) }
        for _ in benchmark.scaledIterations { blackHole(HMAC<SHA256>.authenticationCode(for: message, using: key)) }
    }
    Benchmark("ES256 raw signature") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try p256.signature(for: message)) }
    }
    Benchmark("RS256 raw signature") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try rsa.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)) }
    }
    Benchmark("EdDSA raw signature") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try ed.signature(for: message)) }
    }
}
