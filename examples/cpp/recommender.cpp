// A small C++ recommender loop with libprism inside: train a ranker on the demo
// interactions, then one prism::Pipeline call per batch of users recommends the
// top-K, takes the ranker's evidence, renders the student's prompts and explains
// every recommendation of the batch in one batched decode (docs/pipeline.md).
//
//   recommender DEMO_DIR [USER ...]
//
// DEMO_DIR holds catalog.tsv, interactions.tsv and model/ (examples/demo).
#include <prism/prism.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace
{

void print_user(const prism::PipelineUser &user)
{
  std::printf("user %s\n", user.user.c_str());
  for (size_t i = 0; i < user.items.size(); i++) {
    const prism::PipelineItem &rec = user.items[i];
    std::printf("  %zu. %s  score %.3f  evidence:", i + 1, rec.item.c_str(), rec.score);
    for (size_t j = 0; j < rec.evidence.size(); j++)
      std::printf(" %s", rec.evidence[j].item.c_str());
    // An item the catalog lacks has no prompt and so no explanation.
    std::printf("\n     %s\n", rec.in_catalog ? rec.explanation.c_str() : "(not in the catalog)");
  }
}

int run(const std::string &demo, std::vector<std::string> users)
{
  prism::Interactions data = prism::Interactions::load_tsv(demo + "/interactions.tsv");

  prism::RankerParams params;
  params.factors = 16;
  params.iterations = 10;
  params.alpha = 10.0f;
  params.regularization = 0.1f;
  params.seed = 1;
  prism::Ranker ranker = prism::Ranker::train(data, &params);

  // The host's catalog (item id -> title and genre) and the student, loaded once; the pipeline
  // borrows them with the ranker and the histories, and serves every user.
  prism::Catalog catalog = prism::Catalog::load_tsv(demo + "/catalog.tsv");
  prism::Explainer explainer = prism::Explainer::load(demo + "/model");
  prism::Pipeline pipeline = prism::Pipeline::create(ranker, catalog, &data, &explainer);

  if (users.empty())
    users = { ranker.user_id(0), ranker.user_id(1), ranker.user_id(2) };
  prism::PipelineParams top3;
  top3.k = 3;
  std::vector<prism::PipelineUser> results = pipeline.run(users, &top3);
  int status = 0;
  for (size_t u = 0; u < results.size(); u++) {
    if (results[u].status != PRISM_OK) {
      std::fprintf(stderr, "recommender: %s\n", results[u].error.c_str());
      status = 1;
      continue;
    }
    print_user(results[u]);
  }
  return status;
}

} // namespace

int main(int argc, char **argv)
{
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DEMO_DIR [USER ...]\n", argv[0]);
    return 2;
  }
  try {
    return run(argv[1], std::vector<std::string>(argv + 2, argv + argc));
  } catch (const prism::Error &e) {
    // e.status() is the prism_status; what() names the file, line or id at fault.
    std::fprintf(stderr, "recommender: %s\n", e.what());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "recommender: %s\n", e.what());
  }
  return 1;
}
