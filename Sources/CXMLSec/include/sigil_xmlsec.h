// Verifies the XML signature of a SAML 2.0 Response with libxmlsec1 (Debian's libxmlsec1-dev),
// against one configured certificate. A plain C interface: the Swift side never sees libxml2's or
// xmlsec's headers (see TOOLCHAIN.md).
#ifndef SIGIL_XMLSEC_H
#define SIGIL_XMLSEC_H

#include <stddef.h>

/// Verifies `response` (a samlp:Response document) against the public key of `certificate_pem` only.
/// On success returns 0 and sets `*assertion` (malloc'd, free with sigil_xmlsec_free) to the one
/// saml:Assertion the verified signature covers, as a document of its own, and `*response_signed`
/// to 1 when the signature was the Response's (so its Destination and InResponseTo are signed too).
/// On failure returns -1 and writes a reason (never document content) into `reason`.
int sigil_xmlsec_verify_saml(const char *response, size_t response_length, const char *certificate_pem,
                             size_t certificate_length, char **assertion, size_t *assertion_length,
                             int *response_signed, char *reason, size_t reason_size);

void sigil_xmlsec_free(char *pointer);

#endif
