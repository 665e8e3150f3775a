#include "prism/common.h"

PRISM_API int prism_version_number(void)
{
  return PRISM_VERSION_NUMBER;
}

PRISM_API const char *prism_version_string(void)
{
  return PRISM_VERSION_STRING;
}
