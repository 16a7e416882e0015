import BenchmarkSupport
import Foundation
import SigilCore
import SigilSigning

/// `engine-workload N`: decorates N Basic and N JWT HS256 requests through the engine, for profiling.
@main
struct Main {
    static func main() async throws {
        let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1000
        let basic = SigningEngine(
            source: MemoryCredentials.single(
                .basic, secrets: ["password": SecretBytes(utf8: "open sesame")],
                principalParameters: ["username": "Aladdin"]))
        let jwt = SigningEngine(
            source: MemoryCredentials.single(
                .jwt, parameters: ["algorithm": "HS256", "iss": "client", "aud": "https://api.example.com"],
                secrets: ["signingKey": SecretBytes.random(count: 32)]))
        var start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { _ = try await basic.decorate(OutboundRequest(url: "callout:Api/items")) }
        print("basic ns/request \((DispatchTime.now().uptimeNanoseconds - start) / UInt64(rounds))")
        start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { _ = try await jwt.decorate(OutboundRequest(url: "callout:Api/items")) }
        print("jwt HS256 ns/request \((DispatchTime.now().uptimeNanoseconds - start) / UInt64(rounds))")
    }
}
