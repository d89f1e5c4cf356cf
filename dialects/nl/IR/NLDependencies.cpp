//===- NLDependencies.cpp - Same-step dependencies between levels ---------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDependencies.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <functional>

using namespace mlir;
using namespace mlir::nl;

bool mlir::nl::readSeesThisStep(LevelOp level) {
  StateOp memory = level.getMemory();
  if (memory && isa<KvCacheType>(memory.getType()))
    return true;
  RuleAttr rule = level.getRuleAttr();
  return rule && rule.getRead() != ReadOrder::before_write &&
         level.learnsOnline();
}

LevelGraph::LevelGraph(ModelOp model) {
  for (LevelOp level : model.getLevels()) {
    index.try_emplace(level.getSymName(), levels.size());
    levels.push_back(level);
  }

  // Levels whose memory an algorithm keeps in another level.
  for (auto [i, level] : llvm::enumerate(levels))
    if (RuleAttr rule = level.getRuleAttr())
      for (FlatSymbolRefAttr ref : rule.getViaLevels())
        if (std::optional<unsigned> j = indexOf(ref.getValue()))
          deps.push_back({static_cast<unsigned>(i), *j, level});

  StepOp step = model.getStep();
  if (!step)
    return;
  // Every read that an update's operands transitively consume.
  step.walk([&](UpdateOp update) {
    std::optional<unsigned> from = indexOf(update.getLevel());
    if (!from)
      return;
    llvm::SetVector<Operation *> visited;
    SmallVector<Value> worklist(update->getOperands());
    while (!worklist.empty()) {
      Operation *def = worklist.pop_back_val().getDefiningOp();
      if (!def || !visited.insert(def))
        continue;
      if (auto read = dyn_cast<ReadOp>(def))
        if (std::optional<unsigned> to = indexOf(read.getLevel()))
          if (readSeesThisStep(levels[*to]))
            deps.push_back({*from, *to, read});
      llvm::append_range(worklist, def->getOperands());
    }
  });
}

std::optional<unsigned> LevelGraph::indexOf(StringRef name) const {
  auto it = index.find(name);
  if (it == index.end())
    return std::nullopt;
  return it->second;
}

SmallVector<LevelDependency> LevelGraph::findCycle() const {
  enum Color { White, Grey, Black };
  SmallVector<Color> color(levels.size(), White);
  SmallVector<LevelDependency> path;
  SmallVector<LevelDependency> cycle;

  std::function<bool(unsigned)> visit = [&](unsigned node) -> bool {
    color[node] = Grey;
    for (const LevelDependency &d : deps) {
      if (d.from != node)
        continue;
      path.push_back(d);
      if (color[d.to] == Grey) {
        // The cycle is the suffix of the path that starts at d.to.
        auto start = llvm::find_if(
            path, [&](const LevelDependency &e) { return e.from == d.to; });
        cycle.assign(start, path.end());
        return true;
      }
      if (color[d.to] == White && visit(d.to))
        return true;
      path.pop_back();
    }
    color[node] = Black;
    return false;
  };

  for (unsigned i = 0; i < levels.size(); ++i)
    if (color[i] == White && visit(i))
      return cycle;
  return {};
}

FailureOr<SmallVector<unsigned>> LevelGraph::topologicalOrder(
    llvm::function_ref<bool(unsigned, unsigned)> before) const {
  // waiting[i]: how many distinct levels i still needs.
  SmallVector<llvm::SmallSetVector<unsigned, 4>> needs(levels.size());
  for (const LevelDependency &d : deps)
    if (d.from != d.to)
      needs[d.from].insert(d.to);
    else
      return failure();
  SmallVector<unsigned> order;
  SmallVector<bool> done(levels.size(), false);
  while (order.size() < levels.size()) {
    std::optional<unsigned> next;
    for (unsigned i = 0; i < levels.size(); ++i) {
      if (done[i] ||
          llvm::any_of(needs[i], [&](unsigned j) { return !done[j]; }))
        continue;
      if (!next || before(i, *next))
        next = i;
    }
    if (!next)
      return failure();
    done[*next] = true;
    order.push_back(*next);
  }
  return order;
}

FailureOr<SmallVector<Operation *>> mlir::nl::orderStepOps(ModelOp model,
                                                           StepOp step) {
  llvm::DenseMap<StringRef, UpdateOp> updates;
  step.walk([&](UpdateOp u) { updates[u.getLevel()] = u; });
  SmallVector<Operation *> order;
  Block &body = step.getBody().front();
  llvm::MapVector<Operation *, SmallVector<Operation *>> deps;
  for (Operation &op : body.without_terminator()) {
    SmallVector<Operation *> &d = deps[&op];
    for (Value operand : op.getOperands())
      if (Operation *def = operand.getDefiningOp())
        d.push_back(def);
  }
  for (Operation &op : body.without_terminator()) {
    if (auto read = dyn_cast<ReadOp>(op)) {
      UpdateOp update = updates.lookup(read.getLevel());
      LevelOp level = model.lookupLevel(read.getLevel());
      if (!update)
        continue;
      if (readSeesThisStep(level))
        deps[read].push_back(update);
      else
        deps[update].push_back(read);
    }
    if (auto weights = dyn_cast<WeightsOp>(op)) {
      // Views of the state: before the write, every direct consumer must
      // run before the update; after it, the op waits for the update.
      UpdateOp update = updates.lookup(weights.getLevel());
      if (!update)
        continue;
      if (weights.getAfterWrite()) {
        deps[weights].push_back(update);
        continue;
      }
      for (Value r : weights.getResults())
        for (Operation *user : r.getUsers())
          if (user != update.getOperation())
            deps[update].push_back(user);
      deps[update].push_back(weights);
    }
    if (auto update = dyn_cast<UpdateOp>(op)) {
      // The served level's update runs the optimizer; its gates come first.
      LevelOp level = model.lookupLevel(update.getLevel());
      if (RuleAttr rule = level.getRuleAttr())
        for (FlatSymbolRefAttr ref : rule.getViaLevels())
          if (UpdateOp opt = updates.lookup(ref.getValue()))
            deps[update].push_back(opt);
    }
  }
  // Kahn's algorithm, stable in program order.
  DenseSet<Operation *> done;
  while (order.size() < deps.size()) {
    bool progress = false;
    for (auto &[op, d] : deps) {
      if (done.contains(op) || llvm::any_of(d, [&](Operation *x) {
            return x->getBlock() == &body && !done.contains(x);
          }))
        continue;
      done.insert(op);
      order.push_back(op);
      progress = true;
      break;
    }
    if (!progress)
      return step.emitOpError() << "has no order of its ops that respects "
                                   "the read/update semantics";
  }
  return order;
}
