// A small C++ recommender loop with libprism inside: train a ranker on the demo
// interactions, recommend top-K for a few users, take the ranker's evidence,
// render the student's prompts and explain every recommendation of a user in
// one batch.
//
//   recommender DEMO_DIR [USER ...]
//
// DEMO_DIR holds catalog.tsv, interactions.tsv and model/ (examples/demo).
#include <prism/prism.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace
{

// The host application's own catalog: item id -> title and genre.
typedef std::map<std::string, prism::PromptItem> Catalog;

Catalog load_catalog(const std::string &path)
{
  std::ifstream in(path.c_str());
  if (!in)
    throw std::runtime_error(path + ": cannot open");
  Catalog catalog;
  std::string line;
  std::getline(in, line); // header: item_id title genre ...
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, title, genre;
    if (std::getline(fields, id, '\t') && std::getline(fields, title, '\t') &&
        std::getline(fields, genre, '\t'))
      catalog[id] = prism::PromptItem(title, genre);
  }
  return catalog;
}

// What the prompt shows of an item: its catalog entry, or its bare id if the catalog lacks it.
prism::PromptItem describe(const Catalog &catalog, const std::string &item_id)
{
  Catalog::const_iterator it = catalog.find(item_id);
  return it != catalog.end() ? it->second : prism::PromptItem(item_id, "");
}

// The user's history in file order (the demo file is sorted by time), oldest first.
std::vector<std::string> history_of(const prism::Interactions &data, const std::string &user_id)
{
  int32_t user = data.find_user(user_id); // the data's own index of this id
  std::vector<std::string> items;
  for (size_t i = 0; i < data.count(); i++) {
    prism::Interaction x = data.at(i);
    if (x.user == user)
      items.push_back(data.item_id(x.item));
  }
  return items;
}

struct Recommendation {
  std::string item;
  float score;
  std::vector<std::string> evidence;
};

void print_user(const std::string &user, const std::vector<Recommendation> &recs,
                const std::vector<std::string> &explanations)
{
  std::printf("user %s\n", user.c_str());
  for (size_t i = 0; i < recs.size(); i++) {
    std::printf("  %zu. %s  score %.3f  evidence:", i + 1, recs[i].item.c_str(), recs[i].score);
    for (size_t j = 0; j < recs[i].evidence.size(); j++)
      std::printf(" %s", recs[i].evidence[j].c_str());
    std::printf("\n     %s\n", explanations[i].c_str());
  }
}

int run(const std::string &demo, std::vector<std::string> users)
{
  const int top_k = 3;
  const int evidence_per_item = 3;

  Catalog catalog = load_catalog(demo + "/catalog.tsv");
  prism::Interactions data = prism::Interactions::load_tsv(demo + "/interactions.tsv");

  prism::RankerParams params;
  params.factors = 16;
  params.iterations = 10;
  params.alpha = 10.0f;
  params.regularization = 0.1f;
  params.seed = 1;
  prism::Ranker ranker = prism::Ranker::train(data, &params);

  // The explainer loads the student and its tokenizer once; it serves every user.
  prism::Explainer explainer = prism::Explainer::load(demo + "/model");

  if (users.empty())
    users = { ranker.user_id(0), ranker.user_id(1), ranker.user_id(2) };
  for (size_t u = 0; u < users.size(); u++) {
    int32_t user = ranker.find_user(users[u]);
    std::vector<prism::PromptItem> history;
    std::vector<std::string> seen = history_of(data, users[u]);
    for (size_t i = 0; i < seen.size(); i++)
      history.push_back(describe(catalog, seen[i]));

    prism::ScoredItems top = ranker.recommend(user, top_k);
    std::vector<Recommendation> recs;
    std::vector<std::string> prompts;
    for (size_t i = 0; i < top.size(); i++) {
      Recommendation rec;
      rec.item = ranker.item_id(top.items[i]);
      rec.score = top.scores[i];
      prism::ScoredItems why = ranker.explain(user, top.items[i], evidence_per_item);
      std::vector<prism::PromptItem> evidence;
      for (size_t j = 0; j < why.size(); j++) {
        rec.evidence.push_back(ranker.item_id(why.items[j]));
        evidence.push_back(describe(catalog, rec.evidence.back()));
      }
      prompts.push_back(prism::render_prompt(history, describe(catalog, rec.item), evidence));
      recs.push_back(rec);
    }
    // The user's top-K go through the decoder together.
    print_user(users[u], recs, explainer.run(prompts));
  }
  return 0;
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
