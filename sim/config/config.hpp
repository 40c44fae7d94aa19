// Strict scenario reading. A Node is a JSON value at a path in a file; every accessor checks
// type, unit and range and fails with one message naming file, path, value and what is allowed.
// Parameters are typed, documented, range-checked members of a ParamSet whose config name is the
// member name; a ParamSet rejects keys it does not declare.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/error.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

using Json = nlohmann::json;

class Node {
 public:
  Node(const Json& value, std::string file, std::string path)
      : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

  const Json& json() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& problem, const std::string& allowed) const;

  bool has(const std::string& key) const;
  Node at(const std::string& key) const;
  Node at(std::size_t index) const;
  // An optional member (nullopt when absent), then read with the accessors below.
  std::optional<Node> find(const std::string& key) const;
  std::size_t size() const;
  void require_object() const;
  void require_array() const;
  // Fails on the first key not in `allowed` (sorted key order, so the message is stable).
  void reject_unknown(const std::vector<std::string>& allowed) const;

  std::int64_t as_int(std::int64_t lo, std::int64_t hi) const;
  // The whole unsigned 64-bit range (a seed): what as_int cannot hold above INT64_MAX.
  std::uint64_t as_uint(std::uint64_t lo, std::uint64_t hi) const;
  double as_real(double lo, double hi) const;
  bool as_bool() const;
  std::string as_string() const;
  std::string as_enum(const std::vector<std::string>& choices) const;
  Tick as_duration(Tick lo, Tick hi) const;
  std::int64_t as_frequency(std::int64_t lo, std::int64_t hi) const;

 private:
  const Json* value_;
  std::string file_;
  std::string path_;
};

class ParamSet;

class ParamBase {
 public:
  ParamBase(ParamSet& owner, const char* name, const char* doc);
  virtual ~ParamBase() = default;
  ParamBase(const ParamBase&) = delete;
  ParamBase& operator=(const ParamBase&) = delete;
  const char* name() const { return name_; }
  const char* doc() const { return doc_; }
  virtual void load(const Node& node) = 0;
  virtual Json to_json() const = 0;
  virtual Json schema() const = 0;
  // The choices that exist to exercise a check, as (choice, check) pairs: an EnumParam's broken
  // variants name the check that catches them.
  virtual std::vector<std::pair<std::string, std::string>> exercising() const { return {}; }
  // The check the current value exists to exercise, or null.
  virtual const char* exercised() const { return nullptr; }

 private:
  const char* name_;
  const char* doc_;
};

class IntParam final : public ParamBase {
 public:
  IntParam(ParamSet& o, const char* name, std::int64_t def, std::int64_t lo, std::int64_t hi,
           const char* doc)
      : ParamBase(o, name, doc), value(def), lo_(lo), hi_(hi) {}
  void load(const Node& n) override { value = n.as_int(lo_, hi_); }
  Json to_json() const override { return value; }
  Json schema() const override;
  std::int64_t value;

 private:
  std::int64_t lo_, hi_;
};

class RealParam final : public ParamBase {
 public:
  RealParam(ParamSet& o, const char* name, double def, double lo, double hi, const char* doc)
      : ParamBase(o, name, doc), value(def), lo_(lo), hi_(hi) {}
  void load(const Node& n) override { value = n.as_real(lo_, hi_); }
  Json to_json() const override { return value; }
  Json schema() const override;
  double value;

 private:
  double lo_, hi_;
};

class BoolParam final : public ParamBase {
 public:
  BoolParam(ParamSet& o, const char* name, bool def, const char* doc)
      : ParamBase(o, name, doc), value(def) {}
  void load(const Node& n) override { value = n.as_bool(); }
  Json to_json() const override { return value; }
  Json schema() const override;
  bool value;
};

class StringParam final : public ParamBase {
 public:
  StringParam(ParamSet& o, const char* name, std::string def, const char* doc)
      : ParamBase(o, name, doc), value(std::move(def)) {}
  void load(const Node& n) override { value = n.as_string(); }
  Json to_json() const override { return value; }
  Json schema() const override;
  std::string value;
};

// A string among fixed choices, read by name (a workload kind or lock algorithm is looked up in
// a registry by its name). A choice the model branches on is an EnumParam.
class ChoiceParam final : public ParamBase {
 public:
  ChoiceParam(ParamSet& o, const char* name, std::string def, std::vector<std::string> choices,
              const char* doc)
      : ParamBase(o, name, doc), value(std::move(def)), choices_(std::move(choices)) {}
  void load(const Node& n) override { value = n.as_enum(choices_); }
  Json to_json() const override { return value; }
  Json schema() const override;
  std::string value;

 private:
  std::vector<std::string> choices_;
};

// A choice among values of the model's enum E: each name is mapped to its value explicitly, so
// the order of the list means nothing to the model. The scenario reads and writes the name.
template <class E>
class EnumParam final : public ParamBase {
 public:
  struct Choice {
    const char* name;
    E value;
    // The check this choice exists to exercise (a broken variant's), or null.
    const char* exercises = nullptr;
  };
  // SimError when two choices share a name or a value, or `def` is not among them.
  EnumParam(ParamSet& o, const char* name, E def, std::vector<Choice> choices, const char* doc)
      : ParamBase(o, name, doc), value(def), choices_(std::move(choices)) {
    for (std::size_t i = 0; i < choices_.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (std::string(choices_[i].name) == choices_[j].name ||
            choices_[i].value == choices_[j].value)
          throw SimError(std::string(name) + ": choice \"" + choices_[i].name +
                         "\" repeats a name or a value");
    text();  // throws when `def` is none of the choices
  }
  void load(const Node& n) override {
    const std::string chosen = n.as_enum(names());
    for (const Choice& c : choices_)
      if (chosen == c.name) value = c.value;
  }
  Json to_json() const override { return text(); }
  Json schema() const override {
    return {{"enum", names()}, {"default", text()}, {"description", doc()}};
  }
  std::vector<std::pair<std::string, std::string>> exercising() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Choice& c : choices_)
      if (c.exercises) out.emplace_back(c.name, c.exercises);
    return out;
  }
  const char* exercised() const override {
    for (const Choice& c : choices_)
      if (c.value == value) return c.exercises;
    return nullptr;
  }
  // The name of `value` (SimError when no choice maps to it).
  const char* text() const {
    for (const Choice& c : choices_)
      if (c.value == value) return c.name;
    throw SimError(std::string(name()) + ": the value is none of its choices");
  }
  const std::vector<Choice>& choices() const { return choices_; }
  E value;

 private:
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Choice& c : choices_) out.emplace_back(c.name);
    return out;
  }
  std::vector<Choice> choices_;
};

class DurationParam final : public ParamBase {
 public:
  DurationParam(ParamSet& o, const char* name, Tick def, Tick lo, Tick hi, const char* doc)
      : ParamBase(o, name, doc), value(def), lo_(lo), hi_(hi) {}
  void load(const Node& n) override { value = n.as_duration(lo_, hi_); }
  Json to_json() const override { return format_duration(value); }
  Json schema() const override;
  Tick value;

 private:
  Tick lo_, hi_;
};

class FrequencyParam final : public ParamBase {
 public:
  FrequencyParam(ParamSet& o, const char* name, std::int64_t def, std::int64_t lo, std::int64_t hi,
                 const char* doc)
      : ParamBase(o, name, doc), value(def), lo_(lo), hi_(hi) {}
  void load(const Node& n) override { value = n.as_frequency(lo_, hi_); }
  Json to_json() const override { return format_frequency(value); }
  Json schema() const override;
  std::int64_t value;

 private:
  std::int64_t lo_, hi_;
};

// A list of integers in [lo, hi], e.g. CPU numbers. `unique` rejects repeats.
class IntListParam final : public ParamBase {
 public:
  IntListParam(ParamSet& o, const char* name, std::vector<std::int64_t> def, std::int64_t lo,
               std::int64_t hi, const char* doc)
      : ParamBase(o, name, doc), value(std::move(def)), lo_(lo), hi_(hi) {}
  void load(const Node& n) override;
  Json to_json() const override { return value; }
  Json schema() const override;
  std::vector<std::int64_t> value;

 private:
  std::int64_t lo_, hi_;
};

// A list of strings, each 1..max_bytes long (names or name patterns).
class StringListParam final : public ParamBase {
 public:
  StringListParam(ParamSet& o, const char* name, std::vector<std::string> def,
                  std::size_t max_bytes, const char* doc)
      : ParamBase(o, name, doc), value(std::move(def)), max_bytes_(max_bytes) {}
  void load(const Node& n) override;
  Json to_json() const override { return value; }
  Json schema() const override;
  std::vector<std::string> value;

 private:
  std::size_t max_bytes_;
};

class ParamSet {
 public:
  ParamSet() = default;
  virtual ~ParamSet() = default;
  ParamSet(const ParamSet&) = delete;
  ParamSet& operator=(const ParamSet&) = delete;

  // Reads every key of `node` (an object); unknown keys are an error.
  virtual void load(const Node& node);
  virtual Json to_json() const;
  virtual Json schema() const;
  // Cross-field checks after load; call node.fail() on a conflict.
  virtual void validate(const Node& /*node*/) const {}
  // load() for a set whose owner reads the keys `own` itself (lists of sub-objects such as
  // host.load): they are allowed, named among the keys of an unknown-key message, and left to it.
  void load_with(const Node& node, const std::vector<std::string>& own);

  // A nested object section with its own parameters.
  void add_section(const char* name, ParamSet& section, const char* doc);

  // A choice that exists to exercise a check (ParamBase::exercising), at its path.
  struct Exercise {
    std::string path;  // "guest.locks.pv_hash_order", or the JSON path of the value that set it
    std::string choice;
    std::string check;
  };
  // Every such choice of this set and its sections, their paths under `path`.
  void exercising(const std::string& path, std::vector<Exercise>& out) const;
  // The current choices of the parameters `node` sets (as loaded from it) that exercise a
  // check, with the JSON path of each.
  void selected_exercises(const Node& node, std::vector<Exercise>& out) const;

 private:
  friend class ParamBase;
  struct Section {
    const char* name;
    ParamSet* set;
    const char* doc;
  };
  std::vector<ParamBase*> params_;
  std::vector<Section> sections_;
};

// Human form of a JSON value for messages, shortened to about 60 characters.
std::string describe(const Json& value);
// A JSON string literal of `s` for messages: escaped (one line), at most about 60 characters;
// invalid UTF-8 shows as U+FFFD.
std::string quote(const std::string& s);

// `s` with terminal control characters (C0, DEL, C1) and the bidi overrides and isolates
// (U+202A-U+202E, U+2066-U+2069) shown as \xNN / \uNNNN escapes, for human output (terminal,
// pages, plots) that carries names and paths from the input (docs/security-checklist.md).
std::string printable(const std::string& s);

}  // namespace vcpusim::sim
