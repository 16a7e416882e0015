import Foundation
public import Hummingbird
import SigilCore

/// Every route of the service with its ``Access`` rule: the only way routes are added, so each one
/// has a rule, and the list the access tests enumerate.
public struct RouteTable {
    /// One route as declared: `GET /v1/audit`, for operators.
    public struct Entry: Sendable, Hashable {
        /// `GET`, `POST`...
        public var method: String
        /// The router's pattern (`/v1/items/:kind/:name`).
        public var path: String
        public var access: Access
        /// A page for browsers (``RouteTable/addPage(_:_:_:state:_:)``): without a session it
        /// answers a redirect to the login form rather than 401.
        public var isPage = false
    }

    public typealias Handler = @Sendable (Request, ServiceContext) async throws -> Response

    let router: Router<ServiceContext>
    public internal(set) var entries: [Entry] = []

    init(router: Router<ServiceContext>) {
        self.router = router
    }

    /// Adds `handler` at `method path`, called only for callers `access` admits: an anonymous caller
    /// gets 401, an authenticated one without the role 403.
    mutating func add(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ handler: @escaping Handler) {
        entries.append(Entry(method: method.rawValue, path: path, access: access))
        router.on(RouterPath(path), method: method) { request, context -> Response in
            guard access.admits(context.caller) else {
                if let error = context.catalogError { throw error }
                if context.caller == nil { throw ServiceError.unauthenticated() }
                throw ServiceError.forbidden(
                    "\(method) \(path) is for \(access == .admin ? "admins" : "operators and admins")")
            }
            return try await handler(request, context)
        }
    }
}

extension Parameters {
    /// The path parameter `name`, percent-decoded (RFC 3986, section 2.1): user names hold `@` and
    /// `+`, which clients encode. Hummingbird hands path segments over as they came.
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        let bytes = PercentEncoding.decode(raw)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ServiceError.invalid("the path's \(name) is not UTF-8 once decoded")
        }
        return text
    }
}

/// JSON answers.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// `value` as JSON; `noStore` (the default) keeps caches and proxies from keeping it.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, noStore: Bool = true) throws
        -> Response
    {
        make(json: Array(try encoder.encode(value)), status: status, noStore: noStore)
    }

    /// JSON already written (`bytes`), as ``make(_:status:noStore:)`` answers it.
    static func make(json bytes: [UInt8], status: HTTPResponse.Status = .ok, noStore: Bool = true) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if noStore { headers[.cacheControl] = "no-store" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The request's JSON body as `T`, with a clear error naming what is wrong (never its values).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: ServiceContext, what: String)
        async throws -> T
    {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ServiceError.invalid("\(what): \(describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "the body" : String(path.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)): \(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): not of the expected type"
        case .dataCorrupted(let context): return "\(path(context)): not valid JSON"
        @unknown default: return "not valid JSON"
        }
    }
}
