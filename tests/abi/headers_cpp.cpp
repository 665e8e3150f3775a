// Every public header, included from C++ (extern "C" guards, no C-only constructs).
#include <prism/prism.h>
#include <prism/bart.h>
#include <prism/explain.h>
#include <prism/generate.h>
#include <prism/metrics.h>
#include <prism/tokenizer.h>
#include <prism/ranker.h>
#include <prism/train.h>
#include <prism/prism.hpp>

#include <cstdio>
#include <cstring>

int main()
{
  if (prism_version_number() != PRISM_VERSION_NUMBER ||
      std::strcmp(prism_version_string(), PRISM_VERSION_STRING) != 0) {
    std::fprintf(stderr, "header/library version mismatch\n");
    return 1;
  }
  if (std::strcmp(prism_status_name(PRISM_ERR_NO_MEMORY), "PRISM_ERR_NO_MEMORY") != 0)
    return 1;
  prism_tokenizer_params params;
  prism_tokenizer_params_init(&params, sizeof params);
  if (params.struct_size != sizeof params || prism_tokenizer_vocab_size(NULL) != 0)
    return 1;
  try {
    prism::check(PRISM_ERR_FORMAT);
    return 1;
  } catch (const prism::Error &e) {
    if (e.status() != PRISM_ERR_FORMAT)
      return 1;
  }
  std::printf("libprism %s from C++\n", prism::version().c_str());
  return 0;
}
