import Foundation
import SigilCore
import SigilModel

extension SigningEngine {
    /// Where an HTTP redirect leads, judged against the endpoint of the named credential the request
    /// went through.
    public struct Redirect: Sendable, Equatable {
        /// The absolute URL the redirect leads to (without a fragment).
        public var url: String
        /// Its host, with the port when the URL gives one, for messages.
        public var host: String
        /// `callout:NAME/...` when the URL stays inside the named credential's endpoint (same scheme,
        /// host and port, under its base path): decorate it again, so signatures cover the new URL.
        /// `nil` when it leaves the endpoint: the credential must not go there.
        public var callout: String?
    }

    /// Resolves `location` (a `Location` header, absolute or relative to `url`: RFC 9110 section
    /// 10.2.2, RFC 3986 section 5) for a request to `url` through named credential `name`.
    ///
    /// Refused whatever the caller's redirect policy: a Location that is not an `http`/`https` URL,
    /// one with user information, and a step from `https` down to `http`.
    public func redirect(from url: String, namedCredential name: String, to location: String) throws -> Redirect {
        guard let named = try source.catalog().namedCredential(named: name) else {
            throw SigilError(.notFound, "named credential \(name) does not exist")
        }
        let endpoint: EndpointURL
        do throws(EndpointURLError) {
            endpoint = try EndpointURL(parsing: named.url)
        } catch {
            throw SigilError(.calloutRefused, "named credential \(name) has an invalid URL: \(error.problem)")
        }
        return try redirect(from: url, namedCredential: name, endpoint: endpoint, to: location)
    }

    /// The same for `decorated`'s response, judged against the endpoint it was prepared with (the
    /// catalog is not read again).
    public func redirect(from decorated: DecoratedRequest, to location: String) throws -> Redirect {
        guard let route = decorated.prepared?.route else {
            return try redirect(from: decorated.url, namedCredential: decorated.namedCredential, to: location)
        }
        return try redirect(
            from: decorated.url, namedCredential: route.name, endpoint: route.endpoint.get(), to: location)
    }

    private func redirect(from url: String, namedCredential name: String, endpoint: EndpointURL, to location: String)
        throws -> Redirect
    {
        let owner = "named credential \(name)"
        guard let current = URL(string: url), let resolved = URL(string: location, relativeTo: current)?.absoluteURL,
            var parts = URLComponents(url: resolved, resolvingAgainstBaseURL: false),
            let scheme = parts.scheme?.lowercased(), let rawHost = parts.host, !rawHost.isEmpty
        else {
            throw SigilError(
                .calloutRefused, "\(owner): the redirect's Location \(location.urlForMessage) is not a valid URL")
        }
        guard scheme == "https" || scheme == "http" else {
            throw SigilError(
                .calloutRefused,
                "\(owner): the redirect leads to a \(scheme.sanitizedForMessage) URL; only http and https are followed")
        }
        guard parts.user == nil && parts.password == nil else {
            throw SigilError(
                .calloutRefused,
                "\(owner): the redirect's Location has user information (user@host); it is not followed")
        }
        let host = Self.bare(rawHost.lowercased())
        if current.scheme?.lowercased() == "https" && scheme == "http" {
            throw SigilError(
                .calloutRefused,
                "\(owner): a redirect from https to http (host \(host.sanitizedForMessage)) is never followed")
        }
        parts.fragment = nil
        guard let absolute = parts.string else {
            throw SigilError(
                .calloutRefused, "\(owner): the redirect's Location \(location.urlForMessage) is not a valid URL")
        }

        func defaultPort(_ scheme: String) -> Int { scheme == "https" ? 443 : 80 }
        let path = parts.percentEncodedPath
        let inside =
            scheme == endpoint.scheme && host == Self.bare(endpoint.host)
            && (parts.port ?? defaultPort(scheme)) == (endpoint.port ?? defaultPort(endpoint.scheme))
            && (endpoint.path.isEmpty || path == endpoint.path || path.hasPrefix(endpoint.path + "/"))
        let shown = ((host.contains(":") ? "[\(host)]" : host) + (parts.port.map { ":\($0)" } ?? ""))
            .sanitizedForMessage
        guard inside else { return Redirect(url: absolute, host: shown, callout: nil) }
        let suffix = String(path.dropFirst(endpoint.path.count)) + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        return Redirect(url: absolute, host: shown, callout: "callout:\(name)" + suffix)
    }

    /// An IPv6 host without its brackets, any other host as it is.
    private static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
