/// Sigil's OpenAPI 3.1 document, served at `GET /openapi.json`. `scripts/test` checks it with
/// openapi-spec-validator and runs schemathesis against a live server with it
/// (`Tests/Interop/openapi_check.py`): keep it in step with the routes.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Sigil",
            "version": "0.1.0",
            "description": "Sigil's HTTP service (`sigil serve`): an outbound credential vault. Callers get requests decorated with credentials they never see (sign, presign, proxy), and operators manage the vault (configuration, items, write-only secrets, the audit log, keys). Authenticate with HTTP Basic (a Sigil user's password, or the directory's when LDAP is configured) or an API key (`Authorization: Bearer sigil_<16 hex>_<43 base64url>`); a deployment may also admit an upstream platform's session (two headers it names) and, for browsers, the `sigil_session` cookie that SAML sign-on or the login form (`/login`) sets. The HTML pages for people (`/login`, `/connections`, `/credentials`, `/expiry`, `/audit`, `/oauth/callback`) are not part of this API and not described here. Every error is `{\"error\": {\"code\", \"message\"}}`. JSON answers have sorted keys and omit absent optional fields."
          },
          "tags": [
            {"name": "health", "description": "Liveness, readiness, metrics and this document."},
            {"name": "signing", "description": "Requests decorated with a credential."},
            {"name": "proxy", "description": "Requests sent upstream with a credential."},
            {"name": "configuration", "description": "The configuration file, applied and exported."},
            {"name": "items", "description": "Credentials, principals, users, groups, grants and authorizations."},
            {"name": "secrets", "description": "Secret values: written, never read."},
            {"name": "management", "description": "Issued credentials, the audit log and the keys."},
            {"name": "saml", "description": "Browser sign-on through a SAML 2.0 identity provider."},
            {"name": "rotation", "description": "Rotating a secret without downtime: start, test, finish, rollback, cleanup (sigil rotate)."}
          ],
          "security": [{"basic": []}, {"apiKey": []}],
          "paths": {
            "/healthz": {
              "get": {
                "operationId": "health",
                "tags": ["health"],
                "summary": "The process answers",
                "security": [],
                "responses": {
                  "200": {
                    "description": "Alive.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/readyz": {
              "get": {
                "operationId": "ready",
                "tags": ["health"],
                "summary": "The vault is open, its schema current and its catalog authentic",
                "security": [],
                "responses": {
                  "200": {
                    "description": "Ready.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}
                  },
                  "503": {
                    "description": "Not ready, with the reason.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "openAPI",
                "tags": ["health"],
                "summary": "This document",
                "security": [],
                "responses": {
                  "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "tags": ["health"],
                "summary": "Prometheus metrics (operators and admins)",
                "responses": {
                  "200": {
                    "description": "The Prometheus text exposition format, version 0.0.4.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/sign": {
              "post": {
                "operationId": "sign",
                "tags": ["signing"],
                "summary": "Decorate a request with its credential (any user)",
                "description": "Answers as `sigil sign --json` prints: the request with its credential applied.",
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignRequest"}}}
                },
                "responses": {
                  "200": {
                    "description": "The decorated request. It carries the secret (the credential's headers, signature or merged values): treat the answer as a secret.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecoratedRequest"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"},
                  "502": {"$ref": "#/components/responses/BadGateway"}
                }
              }
            },
            "/v1/presign": {
              "post": {
                "operationId": "presign",
                "tags": ["signing"],
                "summary": "Presign a URL (AWS SigV4 query signing; any user)",
                "requestBody": {
                  "required": true,
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PresignRequest"}}}
                },
                "responses": {
                  "200": {
                    "description": "The presigned URL. Anyone who holds it may make the request until it expires: treat it as a secret.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PresignedURL"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"},
                  "502": {"$ref": "#/components/responses/BadGateway"}
                }
              }
            },
            "/v1/proxy/{credential}": {
              "parameters": [
                {
                  "name": "credential",
                  "in": "path",
                  "required": true,
                  "description": "The named credential whose endpoint the request goes to.",
                  "schema": {"type": "string"}
                },
                {
                  "name": "Sigil-Act-As",
                  "in": "header",
                  "required": false,
                  "description": "Act as this user (admins, and apps granted actAs); it is not sent upstream.",
                  "schema": {"type": "string"}
                }
              ],
              "get": {
                "operationId": "proxyGet",
                "tags": ["proxy"],
                "summary": "GET to the named credential's endpoint, with the credential (any user)",
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "head": {
                "operationId": "proxyHead",
                "tags": ["proxy"],
                "summary": "HEAD to the named credential's endpoint, with the credential (any user)",
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "post": {
                "operationId": "proxyPost",
                "tags": ["proxy"],
                "summary": "POST to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "put": {
                "operationId": "proxyPut",
                "tags": ["proxy"],
                "summary": "PUT to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "patch": {
                "operationId": "proxyPatch",
                "tags": ["proxy"],
                "summary": "PATCH to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "delete": {
                "operationId": "proxyDelete",
                "tags": ["proxy"],
                "summary": "DELETE to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "options": {
                "operationId": "proxyOptions",
                "tags": ["proxy"],
                "summary": "OPTIONS to the named credential's endpoint, with the credential (any user)",
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              }
            },
            "/v1/proxy/{credential}/{path}": {
              "parameters": [
                {
                  "name": "credential",
                  "in": "path",
                  "required": true,
                  "description": "The named credential whose endpoint the request goes to.",
                  "schema": {"type": "string"}
                },
                {
                  "name": "path",
                  "in": "path",
                  "required": true,
                  "description": "The rest of the path (it may hold `/`), appended to the named credential's URL as the caller encoded it; the query string is passed on too.",
                  "schema": {"type": "string"}
                },
                {
                  "name": "Sigil-Act-As",
                  "in": "header",
                  "required": false,
                  "description": "Act as this user (admins, and apps granted actAs); it is not sent upstream.",
                  "schema": {"type": "string"}
                }
              ],
              "get": {
                "operationId": "proxyGetPath",
                "tags": ["proxy"],
                "summary": "GET to the named credential's endpoint, with the credential (any user)",
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "head": {
                "operationId": "proxyHeadPath",
                "tags": ["proxy"],
                "summary": "HEAD to the named credential's endpoint, with the credential (any user)",
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "post": {
                "operationId": "proxyPostPath",
                "tags": ["proxy"],
                "summary": "POST to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "put": {
                "operationId": "proxyPutPath",
                "tags": ["proxy"],
                "summary": "PUT to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "patch": {
                "operationId": "proxyPatchPath",
                "tags": ["proxy"],
                "summary": "PATCH to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "delete": {
                "operationId": "proxyDeletePath",
                "tags": ["proxy"],
                "summary": "DELETE to the named credential's endpoint, with the credential (any user)",
                "requestBody": {"$ref": "#/components/requestBodies/Proxied"},
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              },
              "options": {
                "operationId": "proxyOptionsPath",
                "tags": ["proxy"],
                "summary": "OPTIONS to the named credential's endpoint, with the credential (any user)",
                "responses": {"default": {"$ref": "#/components/responses/Proxied"}}
              }
            },
            "/v1/auth/status": {
              "get": {
                "operationId": "authStatus",
                "tags": ["management"],
                "summary": "Credentials obtained from providers: state, expiry, last refresh and error",
                "description": "A member sees the named principals and their own authorizations; operators see all. Never a value.",
                "responses": {
                  "200": {
                    "description": "One entry per principal (and user).",
                    "content": {
                      "application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/IssuedCredentialState"}}
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/audit": {
              "get": {
                "operationId": "audit",
                "tags": ["management"],
                "summary": "The audit log's newest entries, oldest first (operators and admins)",
                "parameters": [
                  {
                    "name": "user",
                    "in": "query",
                    "required": false,
                    "description": "Entries by this user, or made acting as them.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "credential",
                    "in": "query",
                    "required": false,
                    "description": "Entries about this named or external credential.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "since",
                    "in": "query",
                    "required": false,
                    "description": "Entries at or after this instant.",
                    "schema": {"type": "string", "format": "date-time"}
                  },
                  {
                    "name": "until",
                    "in": "query",
                    "required": false,
                    "description": "Entries before this instant.",
                    "schema": {"type": "string", "format": "date-time"}
                  },
                  {
                    "name": "action",
                    "in": "query",
                    "required": false,
                    "description": "An action (use.sign) or a family of them (use).",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "At most this many entries.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The entries.",
                    "content": {
                      "application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/audit/verify": {
              "get": {
                "operationId": "verifyAudit",
                "tags": ["management"],
                "summary": "Check the audit chain and the catalog's authentication (operators and admins)",
                "responses": {
                  "200": {
                    "description": "What the check found.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuditVerification"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/keys": {
              "get": {
                "operationId": "keys",
                "tags": ["management"],
                "summary": "The vault's keys (admins)",
                "responses": {
                  "200": {
                    "description": "The keys; never key material.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyStatus"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/config": {
              "get": {
                "operationId": "exportConfig",
                "tags": ["configuration"],
                "summary": "Export the configuration, without secret values (operators and admins)",
                "description": "JSON with format=json or an Accept header naming application/json; YAML otherwise.",
                "parameters": [
                  {
                    "name": "format",
                    "in": "query",
                    "required": false,
                    "description": "The export's format.",
                    "schema": {"type": "string", "enum": ["json", "yaml"]}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The configuration, as `sigil export` writes it.",
                    "content": {
                      "application/yaml": {"schema": {"type": "object"}},
                      "application/json": {"schema": {"type": "object"}}
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              },
              "put": {
                "operationId": "applyConfig",
                "tags": ["configuration"],
                "summary": "Apply a configuration file (operators; roles and service settings: admins)",
                "description": "As `sigil apply`: items are created or updated, all or nothing. Secret values are not read from the host (env:, file:, stdin are refused): set them with PUT /v1/secrets/....",
                "parameters": [
                  {
                    "name": "dryRun",
                    "in": "query",
                    "required": false,
                    "description": "Report what would change and write nothing.",
                    "schema": {"type": "boolean", "default": false}
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/yaml": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "object"}}
                  }
                },
                "responses": {
                  "200": {
                    "description": "What changed (or would change).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplyReport"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/items": {
              "get": {
                "operationId": "items",
                "tags": ["items"],
                "summary": "Every item, as `sigil list --json` (operators and admins)",
                "responses": {
                  "200": {
                    "description": "The catalog.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CatalogView"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/external-credentials/{name}": {
              "get": {
                "operationId": "externalCredential",
                "tags": ["items"],
                "summary": "An external credential (operators and admins)",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The item's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "An external credential.",
                    "content": {
                      "application/json": {"schema": {"$ref": "#/components/schemas/ExternalCredentialView"}}
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              },
              "delete": {
                "operationId": "deleteExternalCredential",
                "tags": ["items"],
                "summary": "Delete an external credential (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The item's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/named-credentials/{name}": {
              "get": {
                "operationId": "namedCredential",
                "tags": ["items"],
                "summary": "A named credential (operators and admins)",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The item's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "A named credential.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NamedCredentialView"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              },
              "delete": {
                "operationId": "deleteNamedCredential",
                "tags": ["items"],
                "summary": "Delete a named credential (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The item's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/principals/{credential}/{principal}": {
              "delete": {
                "operationId": "deletePrincipal",
                "tags": ["items"],
                "summary": "Delete a principal (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "credential",
                    "in": "path",
                    "required": true,
                    "description": "The external credential's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "principal",
                    "in": "path",
                    "required": true,
                    "description": "The principal's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/users/{name}": {
              "delete": {
                "operationId": "deleteUser",
                "tags": ["items"],
                "summary": "Delete a user (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The user's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/groups/{name}": {
              "delete": {
                "operationId": "deleteGroup",
                "tags": ["items"],
                "summary": "Delete a group (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The group's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/grants/{credential}/{principal}": {
              "delete": {
                "operationId": "deleteGrant",
                "tags": ["items"],
                "summary": "Delete a principal's grants (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "credential",
                    "in": "path",
                    "required": true,
                    "description": "The external credential's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "principal",
                    "in": "path",
                    "required": true,
                    "description": "The principal's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/authorizations/{credential}/{principal}/{user}": {
              "delete": {
                "operationId": "deleteAuthorization",
                "tags": ["items"],
                "summary": "Delete a user's authorization of a per-user principal (operators; a user or group that holds a role: admins)",
                "description": "As `sigil delete`: with what it owns; the OAuth 2.0 tokens it held are revoked at their provider first (best effort).",
                "parameters": [
                  {
                    "name": "credential",
                    "in": "path",
                    "required": true,
                    "description": "The external credential's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "principal",
                    "in": "path",
                    "required": true,
                    "description": "The principal's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "user",
                    "in": "path",
                    "required": true,
                    "description": "The user's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "What was deleted and revoked.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/secrets/principals/{credential}/{principal}": {
              "get": {
                "operationId": "getPrincipalSecrets",
                "tags": ["secrets"],
                "summary": "The secrets of a principal (or, with user, a user's authorization): versions and stages, never values (operators and admins)",
                "parameters": [
                  {
                    "name": "credential",
                    "in": "path",
                    "required": true,
                    "description": "The external credential's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "principal",
                    "in": "path",
                    "required": true,
                    "description": "The principal's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "user",
                    "in": "query",
                    "required": false,
                    "description": "A per-user principal's user: that user's secrets (authorization) rather than the principal's.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Each secret's versions and stages; never a value.",
                    "content": {
                      "application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/SecretStatus"}}
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/rotations/principals/{credential}/{principal}": {
              "get": {
                "operationId": "getRotation",
                "tags": ["rotation"],
                "summary": "Where the rotation of a principal's secrets (or, with user, a user's authorization's) stands (operators and admins)",
                "parameters": [
                  {"name": "credential", "in": "path", "required": true, "description": "The external credential's name.", "schema": {"type": "string"}},
                  {"name": "principal", "in": "path", "required": true, "description": "The principal's name.", "schema": {"type": "string"}},
                  {"name": "user", "in": "query", "required": false, "description": "A per-user principal's user: the rotation of that user's own secrets.", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {
                    "description": "The latest rotation.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rotation"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/rotations/principals/{credential}/{principal}/{step}": {
              "post": {
                "operationId": "rotationStep",
                "tags": ["rotation"],
                "summary": "Take one step of a rotation (operators and admins)",
                "description": "start: the new value (value_base64, or generate; with neither, what the owner's rotation policy makes: generated, or made at the provider by aws-iam-access-key or command) becomes pending, checked as secrets are. test: the pending value used for real (the rotator's own test, such as STS GetCallerIdentity or the command's test step; an OAuth 2.0 client secret or key at the token endpoint; request, when given, signed with it and sent); a failure leaves current untouched. finish: pending becomes current and current previous, atomically; needs a passed test. rollback: previous is current again (before finish: pending dropped); the rotator retires the abandoned value at the provider. cleanup: the rotator retires previous at the provider, then it is deleted, once grace_seconds (default: the policy's, else 7 days) have passed since finish. A step taken twice changes nothing (changed: false).",
                "parameters": [
                  {"name": "credential", "in": "path", "required": true, "description": "The external credential's name.", "schema": {"type": "string"}},
                  {"name": "principal", "in": "path", "required": true, "description": "The principal's name.", "schema": {"type": "string"}},
                  {"name": "step", "in": "path", "required": true, "description": "The step.", "schema": {"type": "string", "enum": ["start", "test", "finish", "rollback", "cleanup"]}},
                  {"name": "user", "in": "query", "required": false, "description": "A per-user principal's user: rotate that user's own secret.", "schema": {"type": "string"}}
                ],
                "requestBody": {
                  "required": false,
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RotationStep"}}}
                },
                "responses": {
                  "200": {
                    "description": "The step taken (or found already taken), and where the rotation stands.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RotationStepAnswer"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"},
                  "502": {"$ref": "#/components/responses/BadGateway"}
                }
              }
            },
            "/v1/rotations/named-credentials/{name}": {
              "get": {
                "operationId": "getNamedCredentialRotation",
                "tags": ["rotation"],
                "summary": "Where the rotation of a named credential's secrets (its client identity's) stands (operators and admins)",
                "parameters": [
                  {"name": "name", "in": "path", "required": true, "description": "The named credential's name.", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {
                    "description": "The latest rotation.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rotation"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/rotations/named-credentials/{name}/{step}": {
              "post": {
                "operationId": "namedCredentialRotationStep",
                "tags": ["rotation"],
                "summary": "Take one step of the rotation of a named credential's secrets (operators and admins)",
                "description": "start: the new value (value_base64, or generate; with neither, what the owner's rotation policy makes: generated, or made at the provider by aws-iam-access-key or command) becomes pending, checked as secrets are. test: the pending value used for real (the rotator's own test, such as STS GetCallerIdentity or the command's test step; an OAuth 2.0 client secret or key at the token endpoint; request, when given, signed with it and sent); a failure leaves current untouched. finish: pending becomes current and current previous, atomically; needs a passed test. rollback: previous is current again (before finish: pending dropped); the rotator retires the abandoned value at the provider. cleanup: the rotator retires previous at the provider, then it is deleted, once grace_seconds (default: the policy's, else 7 days) have passed since finish. A step taken twice changes nothing (changed: false).",
                "parameters": [
                  {"name": "name", "in": "path", "required": true, "description": "The named credential's name.", "schema": {"type": "string"}},
                  {"name": "step", "in": "path", "required": true, "description": "The step.", "schema": {"type": "string", "enum": ["start", "test", "finish", "rollback", "cleanup"]}}
                ],
                "requestBody": {
                  "required": false,
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RotationStep"}}}
                },
                "responses": {
                  "200": {
                    "description": "The step taken (or found already taken), and where the rotation stands.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RotationStepAnswer"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"},
                  "502": {"$ref": "#/components/responses/BadGateway"}
                }
              }
            },
            "/v1/secrets/principals/{credential}/{principal}/{field}": {
              "put": {
                "operationId": "setPrincipalSecret",
                "tags": ["secrets"],
                "summary": "Store a new version of a secret of a principal (or, with user, a user's authorization) (operators and admins)",
                "description": "Write-only: no route reads a value back. The value is checked as the engine will read it (a private key for its algorithm...).",
                "parameters": [
                  {
                    "name": "credential",
                    "in": "path",
                    "required": true,
                    "description": "The external credential's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "principal",
                    "in": "path",
                    "required": true,
                    "description": "The principal's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "field",
                    "in": "path",
                    "required": true,
                    "description": "The secret's field (apiKey, clientSecret, privateKey...).",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "user",
                    "in": "query",
                    "required": false,
                    "description": "A per-user principal's user: that user's secrets (authorization) rather than the principal's.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "stage",
                    "in": "query",
                    "required": false,
                    "description": "current (the one used), or pending (staged for a rotation).",
                    "schema": {"type": "string", "enum": ["current", "pending"], "default": "current"}
                  }
                ],
                "requestBody": {
                  "required": true,
                  "description": "The secret's value, as is (up to 1 MiB; not empty).",
                  "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
                },
                "responses": {
                  "200": {
                    "description": "The version that holds the value.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SecretWritten"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/secrets/named-credentials/{name}": {
              "get": {
                "operationId": "getNamedCredentialSecrets",
                "tags": ["secrets"],
                "summary": "The secrets of a named credential (its mTLS client key): versions and stages, never values (operators and admins)",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The item's name.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Each secret's versions and stages; never a value.",
                    "content": {
                      "application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/SecretStatus"}}
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/v1/secrets/named-credentials/{name}/{field}": {
              "put": {
                "operationId": "setNamedCredentialSecret",
                "tags": ["secrets"],
                "summary": "Store a new version of a secret of a named credential (its mTLS client key) (operators and admins)",
                "description": "Write-only: no route reads a value back. The value is checked as the engine will read it (a private key for its algorithm...).",
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The item's name.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "field",
                    "in": "path",
                    "required": true,
                    "description": "The secret's field (apiKey, clientSecret, privateKey...).",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "stage",
                    "in": "query",
                    "required": false,
                    "description": "current (the one used), or pending (staged for a rotation).",
                    "schema": {"type": "string", "enum": ["current", "pending"], "default": "current"}
                  }
                ],
                "requestBody": {
                  "required": true,
                  "description": "The secret's value, as is (up to 1 MiB; not empty).",
                  "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
                },
                "responses": {
                  "200": {
                    "description": "The version that holds the value.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SecretWritten"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/saml/login": {
              "get": {
                "operationId": "samlLogin",
                "tags": ["saml"],
                "summary": "Start SAML sign-on: a form that posts an AuthnRequest to the identity provider",
                "security": [],
                "parameters": [
                  {
                    "name": "return",
                    "in": "query",
                    "required": false,
                    "description": "A path on this service to go back to once signed in (one leading /, no scheme or host).",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "An HTML page whose form (a button, no script) posts the AuthnRequest to the IdP.",
                    "content": {"text/html": {"schema": {"type": "string"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {
                    "description": "SAML sign-on is not configured (service.saml).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/saml/acs": {
              "post": {
                "operationId": "samlAssertionConsumer",
                "tags": ["saml"],
                "summary": "The assertion consumer: takes the identity provider's signed Response",
                "security": [],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "required": ["SAMLResponse"],
                        "properties": {
                          "SAMLResponse": {"type": "string", "description": "The signed SAML Response, base64."},
                          "RelayState": {"type": "string", "description": "Where to go back to (a path)."}
                        }
                      }
                    }
                  }
                },
                "responses": {
                  "303": {
                    "description": "Signed in: the session cookie sigil_session is set (HttpOnly, SameSite=Lax, Secure when the consumer URL is https) and the browser sent to RelayState or /connections.",
                    "headers": {
                      "Location": {"schema": {"type": "string"}},
                      "Set-Cookie": {"schema": {"type": "string"}}
                    }
                  },
                  "400": {
                    "description": "SAMLResponse is missing.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {
                    "description": "The SAML response was refused (code saml-refused).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "404": {
                    "description": "SAML sign-on is not configured (service.saml).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            },
            "/saml/logout": {
              "post": {
                "operationId": "samlLogout",
                "tags": ["saml"],
                "summary": "End the SAML session (any user)",
                "responses": {
                  "204": {
                    "description": "Signed out: the session ends and its cookie is cleared.",
                    "headers": {"Set-Cookie": {"schema": {"type": "string"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/Internal"}
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "basic": {"type": "http", "scheme": "basic", "description": "A Sigil user's name and password."},
              "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "sigil API key",
                "description": "An API key: sigil_<16 hex>_<43 base64url>."
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "description": "Every error the service answers with.",
                "required": ["error"],
                "properties": {
                  "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                      "code": {
                        "type": "string",
                        "description": "A stable code: unauthenticated, forbidden, invalid-request, not-found, conflict, invalid-configuration, callout-refused, no-principal, transport-failed, provider-failed, too-many-failures, internal..."
                      },
                      "message": {"type": "string", "description": "For people; never holds a secret."}
                    },
                    "additionalProperties": false
                  }
                },
                "additionalProperties": false
              },
              "Status": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "const": "ok"}},
                "additionalProperties": false
              },
              "Readiness": {
                "type": "object",
                "required": ["status"],
                "properties": {
                  "status": {"type": "string", "enum": ["ready", "not ready"]},
                  "reason": {"type": "string", "description": "Why it is not ready."}
                },
                "additionalProperties": false
              },
              "SignRequest": {
                "type": "object",
                "required": ["method", "url"],
                "properties": {
                  "method": {
                    "type": "string",
                    "pattern": "^[A-Za-z]{1,32}$",
                    "description": "The outbound request's HTTP method (letters only; uppercased).",
                    "examples": ["GET"]
                  },
                  "url": {
                    "type": "string",
                    "description": "callout:NAMED_CREDENTIAL/path?query, or an absolute URL under a named credential's base URL.",
                    "examples": ["callout:Billing/invoices?limit=10"]
                  },
                  "headers": {
                    "type": "array",
                    "description": "The outbound request's headers, each [name, value].",
                    "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}
                  },
                  "body_base64": {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": "The outbound request's body, base64 (some schemes sign it)."
                  },
                  "at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Sign as of this instant (ISO 8601) instead of now."
                  },
                  "as": {
                    "type": "string",
                    "description": "Act as this user (admins, and apps granted actAs); by default the caller."
                  }
                }
              },
              "PresignRequest": {
                "type": "object",
                "required": ["method", "url"],
                "properties": {
                  "method": {
                    "type": "string",
                    "pattern": "^[A-Za-z]{1,32}$",
                    "description": "The outbound request's HTTP method (letters only; uppercased).",
                    "examples": ["GET"]
                  },
                  "url": {
                    "type": "string",
                    "description": "callout:NAMED_CREDENTIAL/path?query, or an absolute URL under a named credential's base URL.",
                    "examples": ["callout:Billing/invoices?limit=10"]
                  },
                  "headers": {
                    "type": "array",
                    "description": "The outbound request's headers, each [name, value].",
                    "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}
                  },
                  "expires": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 604800,
                    "default": 3600,
                    "description": "Seconds the URL stays valid."
                  },
                  "at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Sign as of this instant (ISO 8601) instead of now."
                  },
                  "as": {
                    "type": "string",
                    "description": "Act as this user (admins, and apps granted actAs); by default the caller."
                  }
                }
              },
              "DecoratedRequest": {
                "type": "object",
                "description": "The request with its credential applied: it holds the secret.",
                "required": ["method", "url", "headers"],
                "properties": {
                  "method": {"type": "string"},
                  "url": {"type": "string", "description": "The request's real URL."},
                  "headers": {
                    "type": "array",
                    "description": "Every header to send, the credential's included, each [name, value].",
                    "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}
                  },
                  "body_base64": {"type": "string", "contentEncoding": "base64"}
                },
                "additionalProperties": false
              },
              "PresignedURL": {
                "type": "object",
                "required": ["url"],
                "properties": {
                  "url": {"type": "string", "description": "The presigned URL: it is a bearer credential."}
                },
                "additionalProperties": false
              },
              "Header": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                "additionalProperties": false
              },
              "SecretVersion": {
                "type": "object",
                "required": ["version", "stage", "createdAt", "dataKey"],
                "properties": {
                  "version": {"type": "integer"},
                  "stage": {"type": "string", "enum": ["current", "pending", "previous"]},
                  "createdAt": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "dataKey": {"type": "integer", "description": "The data key it is sealed under."}
                },
                "additionalProperties": false
              },
              "SecretStatus": {
                "type": "object",
                "description": "A secret's versions and stages; never its value.",
                "required": ["field", "versions"],
                "properties": {
                  "field": {"type": "string"},
                  "versions": {"type": "array", "items": {"$ref": "#/components/schemas/SecretVersion"}}
                },
                "additionalProperties": false
              },
              "PrincipalView": {
                "type": "object",
                "required": ["name", "type", "sequence", "parameters", "secrets", "grantedTo"],
                "properties": {
                  "name": {"type": "string"},
                  "type": {"type": "string", "enum": ["named", "per-user"]},
                  "sequence": {"type": "integer"},
                  "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
                  "secrets": {"type": "array", "items": {"$ref": "#/components/schemas/SecretStatus"}},
                  "grantedTo": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "user:NAME and group:NAME."
                  }
                },
                "additionalProperties": false
              },
              "ExternalCredentialView": {
                "type": "object",
                "required": ["name", "protocol", "parameters", "customHeaders", "principals", "usedBy"],
                "properties": {
                  "name": {"type": "string"},
                  "protocol": {"type": "string"},
                  "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
                  "customHeaders": {"type": "array", "items": {"$ref": "#/components/schemas/Header"}},
                  "principals": {"type": "array", "items": {"$ref": "#/components/schemas/PrincipalView"}},
                  "usedBy": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The named credentials that use it."
                  }
                },
                "additionalProperties": false
              },
              "ClientIdentityView": {
                "type": "object",
                "required": ["certificate", "status", "warningDays"],
                "properties": {
                  "certificate": {"type": "string", "const": "set"},
                  "privateKey": {"$ref": "#/components/schemas/SecretStatus"},
                  "subject": {"type": "string"},
                  "issuer": {"type": "string"},
                  "notBefore": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "notAfter": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "daysLeft": {"type": "integer"},
                  "status": {
                    "type": "string",
                    "enum": ["valid", "expires-soon", "expired", "not-yet-valid", "unreadable"]
                  },
                  "warningDays": {"type": "integer"},
                  "pin": {"type": "string", "description": "The certificate's SPKI pin, as trust.pins takes it."},
                  "warning": {"type": "string"}
                },
                "additionalProperties": false
              },
              "TrustView": {
                "type": "object",
                "required": ["caBundle", "pins"],
                "properties": {
                  "caBundle": {"type": "string", "enum": ["system roots", "set"]},
                  "pins": {"type": "array", "items": {"type": "string"}}
                },
                "additionalProperties": false
              },
              "NamedCredentialView": {
                "type": "object",
                "required": [
                  "name",
                  "url",
                  "externalCredential",
                  "generateAuthorizationHeader",
                  "allowMergeFieldsInHeader",
                  "allowMergeFieldsInBody",
                  "customHeaders"
                ],
                "properties": {
                  "name": {"type": "string"},
                  "url": {"type": "string"},
                  "externalCredential": {"type": "string"},
                  "generateAuthorizationHeader": {"type": "boolean"},
                  "allowMergeFieldsInHeader": {"type": "boolean"},
                  "allowMergeFieldsInBody": {"type": "boolean"},
                  "customHeaders": {"type": "array", "items": {"$ref": "#/components/schemas/Header"}},
                  "clientIdentity": {"$ref": "#/components/schemas/ClientIdentityView"},
                  "trust": {"$ref": "#/components/schemas/TrustView"}
                },
                "additionalProperties": false
              },
              "UserView": {
                "type": "object",
                "required": ["name", "groups"],
                "properties": {"name": {"type": "string"}, "groups": {"type": "array", "items": {"type": "string"}}},
                "additionalProperties": false
              },
              "AuthorizationStatus": {
                "type": "object",
                "required": ["principal", "user", "status", "createdAt", "updatedAt", "secrets"],
                "properties": {
                  "principal": {"type": "string", "description": "EXTERNAL_CREDENTIAL/PRINCIPAL."},
                  "user": {"type": "string"},
                  "status": {"type": "string"},
                  "createdAt": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "updatedAt": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "secrets": {"type": "array", "items": {"$ref": "#/components/schemas/SecretStatus"}}
                },
                "additionalProperties": false
              },
              "CatalogView": {
                "type": "object",
                "description": "Every item, with each secret's versions and stages; never a value.",
                "required": ["externalCredentials", "namedCredentials", "users", "groups", "authorizations"],
                "properties": {
                  "externalCredentials": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ExternalCredentialView"}
                  },
                  "namedCredentials": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/NamedCredentialView"}
                  },
                  "users": {"type": "array", "items": {"$ref": "#/components/schemas/UserView"}},
                  "groups": {"type": "array", "items": {"type": "string"}},
                  "authorizations": {"type": "array", "items": {"$ref": "#/components/schemas/AuthorizationStatus"}}
                },
                "additionalProperties": false
              },
              "IssuedCredentialState": {
                "type": "object",
                "required": ["principal", "kind", "state"],
                "properties": {
                  "principal": {"type": "string", "description": "EXTERNAL_CREDENTIAL/PRINCIPAL."},
                  "user": {"type": "string", "description": "For a per-user principal."},
                  "kind": {"type": "string"},
                  "state": {
                    "type": "string",
                    "enum": ["configured", "current", "expired", "needs-reauthorization", "not authorized"]
                  },
                  "expiresAt": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "lastRefresh": {
                    "type": "string",
                    "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                  },
                  "lastError": {"type": "string"}
                },
                "additionalProperties": false
              },
              "AuditEntry": {
                "type": "object",
                "required": ["seq", "at", "actor", "action", "target", "detail"],
                "properties": {
                  "seq": {"type": "integer"},
                  "at": {"type": "string", "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."},
                  "actor": {"type": "string"},
                  "action": {"type": "string", "description": "e.g. secret.set, use.sign."},
                  "target": {"type": "string"},
                  "detail": {"type": "object", "additionalProperties": {"type": "string"}}
                },
                "additionalProperties": false
              },
              "CatalogProblem": {
                "type": "object",
                "required": ["table", "problem"],
                "properties": {
                  "table": {"type": "string"},
                  "item": {"type": "string", "description": "Absent for a problem with the table as a whole."},
                  "problem": {"type": "string"}
                },
                "additionalProperties": false
              },
              "AuditVerification": {
                "type": "object",
                "required": ["valid", "chainIntact", "entries", "headSeq", "headMAC", "problems", "catalogProblems"],
                "properties": {
                  "valid": {"type": "boolean", "description": "The chain is intact and the catalog authenticates."},
                  "chainIntact": {"type": "boolean"},
                  "entries": {"type": "integer"},
                  "headSeq": {"type": "integer"},
                  "headMAC": {"type": "string", "description": "The last entry's MAC, hex."},
                  "problems": {"type": "array", "items": {"type": "string"}},
                  "catalogProblems": {"type": "array", "items": {"$ref": "#/components/schemas/CatalogProblem"}}
                },
                "additionalProperties": false
              },
              "KeyStatus": {
                "type": "object",
                "required": ["vaultID", "schemaVersion", "masterKeyKind", "keys"],
                "properties": {
                  "vaultID": {"type": "string"},
                  "schemaVersion": {"type": "integer"},
                  "masterKeyKind": {"type": "string"},
                  "keys": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": ["id", "purpose", "state", "createdAt", "wrappedAt", "secretCount"],
                      "properties": {
                        "id": {"type": "integer"},
                        "purpose": {"type": "string"},
                        "state": {"type": "string"},
                        "createdAt": {
                          "type": "string",
                          "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                        },
                        "wrappedAt": {
                          "type": "string",
                          "description": "An ISO 8601 instant (UTC), e.g. 2026-01-31T12:00:00Z."
                        },
                        "secretCount": {"type": "integer"}
                      },
                      "additionalProperties": false
                    }
                  }
                },
                "additionalProperties": false
              },
              "ApplyReport": {
                "type": "object",
                "required": ["dryRun", "changes"],
                "properties": {
                  "dryRun": {"type": "boolean"},
                  "changes": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": ["action", "item", "fields"],
                      "properties": {
                        "action": {"type": "string", "enum": ["create", "update", "unchanged"]},
                        "item": {"type": "string"},
                        "fields": {
                          "type": "array",
                          "items": {"type": "string"},
                          "description": "The fields that changed, or a secret's new version; never values."
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                },
                "additionalProperties": false
              },
              "Deletion": {
                "type": "object",
                "required": ["deleted", "revocations"],
                "properties": {
                  "deleted": {"type": "array", "items": {"type": "string"}},
                  "revocations": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "One line per OAuth 2.0 token revoked at its provider (best effort)."
                  }
                },
                "additionalProperties": false
              },
              "Rotation": {
                "type": "object",
                "required": ["owner", "fields", "rotator", "step", "startedAt"],
                "properties": {
                  "owner": {"type": "string"},
                  "fields": {"type": "array", "items": {"type": "string"}},
                  "rotator": {"type": "string", "description": "supplied, generated, aws-iam-access-key, oauth-client-secret or command"},
                  "step": {"type": "string", "enum": ["started", "tested", "finished", "rolled-back", "cleaned"]},
                  "startedAt": {"type": "string"},
                  "testedAt": {"type": "string"},
                  "finishedAt": {"type": "string"},
                  "lastError": {"type": "string", "description": "Why the last test failed (never a secret)."}
                },
                "additionalProperties": false
              },
              "RotationStep": {
                "type": "object",
                "properties": {
                  "field": {"type": "string", "description": "start: the field to rotate (default: the only stored one)."},
                  "value_base64": {"type": "string", "description": "start: the new value, base64."},
                  "generate": {
                    "type": "object",
                    "description": "start: let Sigil make the value.",
                    "properties": {"length": {"type": "integer"}, "alphabet": {"type": "string"}},
                    "additionalProperties": false
                  },
                  "request": {
                    "type": "object",
                    "description": "test: a request sent with the pending value; passes on one of expect (default [200]).",
                    "required": ["url"],
                    "properties": {
                      "url": {"type": "string"},
                      "method": {"type": "string"},
                      "expect": {"type": "array", "items": {"type": "integer"}}
                    },
                    "additionalProperties": false
                  },
                  "grace_seconds": {"type": "integer", "description": "cleanup: how long previous is kept after finish."}
                },
                "additionalProperties": false
              },
              "RotationStepAnswer": {
                "type": "object",
                "required": ["changed"],
                "properties": {
                  "changed": {"type": "boolean"},
                  "rotation": {"$ref": "#/components/schemas/Rotation"},
                  "proved": {"type": "array", "items": {"type": "string"}}
                },
                "additionalProperties": false
              },
              "SecretWritten": {
                "type": "object",
                "required": ["target", "version", "stage"],
                "properties": {
                  "target": {"type": "string"},
                  "version": {
                    "type": "string",
                    "description": "The version that holds the value (a decimal number)."
                  },
                  "stage": {"type": "string", "enum": ["current", "pending"]}
                },
                "additionalProperties": false
              }
            },
            "responses": {
              "BadRequest": {
                "description": "The request is not valid (a body, a parameter).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Unauthorized": {
                "description": "Authentication is required, or the credentials sent did not verify.",
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Forbidden": {
                "description": "The caller lacks the role, or may not act as another user.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "NotFound": {
                "description": "No such item (or no such route).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Conflict": {
                "description": "The change conflicts with what the vault holds (an item still in use...).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "ContentTooLarge": {
                "description": "The request body is too large.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Unprocessable": {
                "description": "The request is well formed but cannot be done (invalid configuration or secret, a URL under no named credential, no principal for the user...).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "TooManyRequests": {
                "description": "Too many failed authentication attempts; try again later.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Internal": {
                "description": "An internal error (its details are only logged).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "BadGateway": {
                "description": "A provider or upstream could not be reached or failed.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Proxied": {
                "description": "The upstream's answer: its status, its headers (less hop-by-hop fields and cookies) and its body, streamed. Sigil's own failures have the Error shape (application/json): 401 and 429 (authentication), 403 (Sigil-Act-As not allowed), 422 (no such named credential, no principal for the user, a request the credential refuses), 502 (the upstream or a token provider cannot be reached), 500.",
                "content": {"*/*": {"schema": {}}}
              }
            },
            "requestBodies": {
              "Proxied": {
                "required": false,
                "description": "Sent upstream as is; over 8 MiB or of unknown length, streamed (and then never retried).",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}
              }
            }
          }
        }
        """#
}
