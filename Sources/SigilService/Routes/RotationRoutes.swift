import Foundation
import Hummingbird
import SigilCore
import SigilModel
import SigilOperations
import SigilStore

/// `sigil rotate` through the service, for operators: where a principal's rotation stands, and its
/// steps (start, test, finish, rollback, cleanup), each the same `Rotation` call as the CLI's.
enum RotationRoutes {
    struct StepBody: Decodable {
        struct Generate: Decodable {
            var length: Int?
            var alphabet: String?
        }
        struct Request: Decodable {
            var url: String
            var method: String?
            var expect: [Int]?
        }
        /// start: the field to rotate (default: the owner's only stored field).
        var field: String?
        /// start: the new value (base64), or `generate`.
        var value_base64: String?
        var generate: Generate?
        /// test: a request sent with the pending value.
        var request: Request?
        /// cleanup: how long after finish the previous value is kept (default 7 days).
        var grace_seconds: Int?
    }

    struct StepAnswer: Encodable {
        var changed: Bool
        var rotation: RotationState?
        var proved: [String]?
    }

    static func add(to routes: inout RouteTable, state: ServiceState) {
        add(to: &routes, path: "/v1/rotations/principals/:credential/:principal", owner: principalOwner, state: state)
        add(
            to: &routes, path: "/v1/rotations/named-credentials/:name",
            owner: { _, context in .namedCredential(try context.parameters.decoded("name")) }, state: state)
    }

    /// The status and step routes of one kind of owner.
    private static func add(
        to routes: inout RouteTable, path: String,
        owner: @escaping @Sendable (Request, ServiceContext) throws -> SecretOwner, state: ServiceState
    ) {
        routes.add(.get, path, .operator) { request, context in
            let owner = try owner(request, context)
            guard let rotation = try state.vault.rotation(of: owner) else {
                throw SigilError(.notFound, "\(owner): no rotation was started")
            }
            return try JSONResponse.make(rotation)
        }
        routes.add(.post, path + "/:step", .operator) { request, context in
            let owner = try owner(request, context)
            let step = try context.parameters.decoded("step")
            let body = try await decodeBody(request, context)
            let vault = state.vault.acting(as: context.caller!.user.name)
            var proved: [String]?
            let changed: Bool
            switch step {
            case "start":
                let policy = try Rotation.policy(of: owner, in: vault)
                changed = try await Rotation.start(
                    owner, field: body.field ?? policy?.field, value: try newValue(body, policy: policy), in: vault,
                    broker: state.broker)
            case "test":
                let test = body.request.map { request in
                    Rotation.TestRequest(
                        url: request.url, method: (request.method ?? "GET").uppercased(),
                        expect: Set(request.expect ?? [200]))
                }
                changed = try vault.rotation(of: owner)?.step != .tested
                proved = try await Rotation.test(owner, request: test, in: vault, broker: state.broker)
            case "finish": changed = try await Rotation.finish(owner, in: vault, broker: state.broker)
            case "rollback": changed = try await Rotation.rollBack(owner, in: vault, broker: state.broker)
            case "cleanup":
                let grace =
                    try body.grace_seconds ?? Rotation.policy(of: owner, in: vault)?.grace
                    ?? RotationPolicy.defaultGrace
                guard grace >= 0 else { throw ServiceError.invalid("grace_seconds: expected 0 or more") }
                changed = try await Rotation.cleanUp(
                    owner, grace: TimeInterval(grace), in: vault, broker: state.broker, now: state.clock())
            default:
                throw ServiceError(
                    status: .notFound, code: "not-found",
                    message: "no rotation step \(step.sanitizedForMessage): start, test, finish, rollback or cleanup")
            }
            return try JSONResponse.make(
                StepAnswer(changed: changed, rotation: try state.vault.rotation(of: owner), proved: proved))
        }
    }

    private static func principalOwner(_ request: Request, _ context: ServiceContext) throws -> SecretOwner {
        let reference = PrincipalRef(
            externalCredential: try context.parameters.decoded("credential"),
            principal: try context.parameters.decoded("principal"))
        return request.uri.queryParameters["user"].map { .authorization(reference, user: String($0)) }
            ?? .principal(reference)
    }

    private static func decodeBody(_ request: Request, _ context: ServiceContext) async throws -> StepBody {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        guard buffer.readableBytes > 0 else { return StepBody() }
        do {
            return try JSONDecoder().decode(StepBody.self, from: Data(buffer.readableBytesView))
        } catch {
            throw ServiceError.invalid(
                "the body: expected {\"field\", \"value_base64\" or \"generate\", \"request\", \"grace_seconds\"} as JSON"
            )
        }
    }

    /// The body's value or generate, else what the owner's rotation policy makes.
    private static func newValue(_ body: StepBody, policy: RotationPolicy?) throws -> Rotation.NewValue {
        if body.generate == nil, body.value_base64 == nil, let automatic = Rotation.automaticValue(policy) {
            return automatic
        }
        if let generate = body.generate {
            guard body.value_base64 == nil else {
                throw ServiceError.invalid("give value_base64 or generate, not both")
            }
            return .generated(
                length: generate.length ?? Rotation.NewValue.defaultLength,
                alphabet: generate.alphabet ?? Rotation.NewValue.defaultAlphabet)
        }
        guard let encoded = body.value_base64, var bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
            throw ServiceError.invalid(
                "value_base64: the new value, base64-encoded and not empty (or generate); the owner's rotation policy makes none"
            )
        }
        defer { bytes.resetBytes(in: 0..<bytes.count) }
        return .supplied(SecretBytes(copying: bytes))
    }
}
