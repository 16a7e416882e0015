import Foundation
import Hummingbird
import SigilCore
import SigilOperations
import SigilSigning
import SigilStore

/// `POST /v1/sign` and `POST /v1/presign`: the engine's decorate and presign, for the caller (or,
/// when they may, another user), answered exactly as `sigil sign --json` and `sigil presign` print.
enum SigningRoutes {
    struct SignBody: Decodable {
        var method: String
        var url: String
        var headers: [[String]]?
        var body_base64: String?
        var at: String?
        var `as`: String?
    }

    struct PresignBody: Decodable {
        var method: String
        var url: String
        var headers: [[String]]?
        var expires: Int?
        var at: String?
        var `as`: String?
    }

    static func add(to routes: inout RouteTable, state: ServiceState) {
        routes.add(.post, "/v1/sign", .member) { request, context in
            let body = try await JSONResponse.decode(
                SignBody.self, from: request, context: context, what: "POST /v1/sign")
            let caller = context.caller!
            let user = try state.actingUser(caller, as: body.as)
            let outbound = try OutboundRequest.checked(
                method: body.method, url: body.url, headers: headers(body.headers),
                body: try bytes(body.body_base64).map { .bytes($0) } ?? .none)
            let started = ContinuousClock.now
            do {
                let decorated = try await state.engine.decorate(outbound, as: user, at: try instant(body.at, state))
                state.metrics.signed(kind: "sign", duration: ContinuousClock.now - started)
                state.recordUse(
                    .sign, caller: caller, actingUser: user, method: outbound.method, url: outbound.url,
                    decorated: decorated, outcome: "ok")
                return JSONResponse.make(json: DecoratedRequestJSON(decorated).compactJSON())
            } catch {
                state.recordUse(
                    .sign, caller: caller, actingUser: user, method: outbound.method, url: outbound.url, decorated: nil,
                    outcome: outcome(of: error))
                throw error
            }
        }
        routes.add(.post, "/v1/presign", .member) { request, context in
            let body = try await JSONResponse.decode(
                PresignBody.self, from: request, context: context, what: "POST /v1/presign")
            let caller = context.caller!
            let user = try state.actingUser(caller, as: body.as)
            let outbound = try OutboundRequest.checked(
                method: body.method, url: body.url, headers: headers(body.headers))
            let started = ContinuousClock.now
            do {
                let url = try await state.engine.presign(
                    outbound, as: user, at: try instant(body.at, state), expires: body.expires ?? 3600)
                state.metrics.signed(kind: "presign", duration: ContinuousClock.now - started)
                state.recordUse(
                    .presign, caller: caller, actingUser: user, method: outbound.method, url: outbound.url,
                    decorated: nil, outcome: "ok")
                return try JSONResponse.make(["url": url])
            } catch {
                state.recordUse(
                    .presign, caller: caller, actingUser: user, method: outbound.method, url: outbound.url,
                    decorated: nil, outcome: outcome(of: error))
                throw error
            }
        }
    }

    static func headers(_ pairs: [[String]]?) throws -> [(name: String, value: String)] {
        try (pairs ?? []).enumerated().map { index, pair in
            guard pair.count == 2 else { throw ServiceError.invalid("headers[\(index)]: expected [name, value]") }
            return (pair[0], pair[1])
        }
    }

    static func bytes(_ base64: String?) throws -> [UInt8]? {
        guard let base64 else { return nil }
        guard let data = Data(base64Encoded: base64) else { throw ServiceError.invalid("body_base64: not base64") }
        return Array(data)
    }

    static func instant(_ text: String?, _ state: ServiceState) throws -> Date {
        guard let text else { return state.clock() }
        guard let date = SigningInstant.parse(text) else {
            throw ServiceError.invalid(
                "at: expected an ISO 8601 instant from 1970 to 9999, such as 2015-08-30T12:36:00Z")
        }
        return date
    }
}

extension OutboundRequest {
    /// A method as the caller gave it, checked to be an HTTP token (RFC 9110, section 9.1).
    static func checked(method: String, url: String, headers: [(name: String, value: String)], body: Body = .none)
        throws -> OutboundRequest
    {
        let token = method.uppercased()
        guard !token.isEmpty, token.utf8.count <= 32, token.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw ServiceError.invalid("method: expected an HTTP method such as GET or POST")
        }
        return OutboundRequest(method: token, url: url, headers: headers, body: body)
    }
}
