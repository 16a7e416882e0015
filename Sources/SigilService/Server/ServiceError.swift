import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SigilCore
import SigilModel
import SigilSigning
import SigilStore

/// Every error the service answers with, as one JSON shape: `{"error": {"code", "message"}}`, with
/// the CLI's codes and messages (which never carry a secret). An error that is not a ``SigilError``
/// is logged and answered as `internal` without its text: it might say more than it should.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as SigilError {
            return ServiceError.response(
                status: ServiceError.status(of: error.code), code: error.code.rawValue, message: error.reason)
        } catch let error as ServiceError {
            var response = ServiceError.response(status: error.status, code: error.code, message: error.message)
            for (name, value) in error.headers { response.headers[name] = value }
            return response
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not-found" : "invalid-request"
            let message =
                error.status == .notFound
                ? "no route \(request.method) \(request.uri.path.sanitizedForMessage)"
                : error.status == .contentTooLarge ? "the request body is too large" : "the request is not valid"
            return ServiceError.response(status: error.status, code: code, message: message)
        } catch {
            context.logger.error(
                "internal error",
                metadata: ["path": "\(request.uri.path.sanitizedForMessage)", "type": "\(type(of: error))"])
            return ServiceError.response(status: .internalServerError, code: "internal", message: "internal error")
        }
    }
}

/// An error the service itself raises (authentication, access, request shape).
struct ServiceError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: [HTTPField.Name: String] = [:]

    static func unauthenticated() -> ServiceError {
        ServiceError(
            status: .unauthorized, code: SigilError.Code.unauthenticated.rawValue,
            message: "authentication required: HTTP Basic or an API key (Authorization: Bearer)",
            headers: [.wwwAuthenticate: #"Basic realm="sigil", charset="UTF-8""#])
    }

    static func forbidden(_ message: String) -> ServiceError {
        ServiceError(status: .forbidden, code: "forbidden", message: message)
    }

    static func invalid(_ message: String) -> ServiceError {
        ServiceError(status: .badRequest, code: SigilError.Code.invalidRequest.rawValue, message: message)
    }

    static func tooManyFailures(retryAfter seconds: Int) -> ServiceError {
        ServiceError(
            status: .tooManyRequests, code: "too-many-failures",
            message: "too many failed authentication attempts; try again later",
            headers: [.retryAfter: "\(seconds)"])
    }

    /// The HTTP status a ``SigilError`` code stands for.
    static func status(of code: SigilError.Code) -> HTTPResponse.Status {
        switch code.rawValue {
        case "unauthenticated": .unauthorized
        case "not-found": .notFound
        case "conflict", "vault-exists", "key-operation-in-progress", "rotation-state": .conflict
        case "invalid-configuration", "invalid-request", "invalid-parameter", "invalid-secret",
            "invalid-secret-target", "callout-refused", "no-principal", "missing-secret", "unsupported",
            "reauthorization-required", "secret-source-unreadable":
            .unprocessableContent
        case "transport-failed", "provider-failed", "provider-unavailable": .badGateway
        default: .internalServerError
        }
    }

    static func response(status: HTTPResponse.Status, code: String, message: String) -> Response {
        struct Body: Encodable {
            struct Inner: Encodable {
                var code: String
                var message: String
            }
            var error: Inner
        }
        let data = (try? JSONResponse.encoder.encode(Body(error: .init(code: code, message: message)))) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
