// OpenLDAP's client library (Debian's libldap-dev), for the service's directory authenticator.
#ifndef SIGIL_CLDAP_SHIM_H
#define SIGIL_CLDAP_SHIM_H
#include <ldap.h>
#endif
