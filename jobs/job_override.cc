// job_override.cc: `--set PATH=VALUE` through Cap'n Proto's dynamic API and the job schema.
#include "jobs/job_override.h"

#include <capnp/dynamic.h>
#include <capnp/schema.h>

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <vector>

#include "jobs/job_error.h"

namespace tfmath {

namespace {

// One segment of a path: a field's name and, for a list, an element's index.
struct Step {
  std::string field;
  std::optional<size_t> index;
};

[[noreturn]] void fail(const JobOverride& change, const std::string& why) {
  throw JobError(change.option + " " + change.text() + ": " + why);
}

bool isIdentifier(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::vector<Step> parsePath(const JobOverride& change) {
  std::vector<Step> steps;
  const std::string& path = change.path;
  for (size_t at = 0; at <= path.size();) {
    size_t end = path.find('.', at);
    if (end == std::string::npos) end = path.size();
    std::string segment = path.substr(at, end - at);
    Step step;
    if (const size_t open = segment.find('['); open != std::string::npos) {
      const std::string digits = segment.substr(open + 1, segment.size() - open - 2);
      if (segment.back() != ']' || digits.empty() ||
          digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9)
        fail(change, "'" + segment + "' is not NAME[INDEX] with a whole number for INDEX");
      step.index = std::stoul(digits);
      segment.resize(open);
    }
    if (!isIdentifier(segment))
      fail(change, "'" + segment + "' is not a field name (letters, digits, _)");
    step.field = segment;
    steps.push_back(step);
    at = end + 1;
  }
  return steps;
}

std::string fieldNames(capnp::StructSchema schema) {
  std::string out;
  for (auto f : schema.getFields())
    out += (out.empty() ? "" : ", ") + std::string(f.getProto().getName());
  return out;
}

std::string typeName(capnp::Type type) {
  using W = capnp::schema::Type::Which;
  switch (type.which()) {
    case W::FLOAT32:
      return "a number (Float32)";
    case W::FLOAT64:
      return "a number (Float64)";
    case W::INT8:
      return "a whole number from -128 to 127 (Int8)";
    case W::INT16:
      return "a whole number from -32768 to 32767 (Int16)";
    case W::INT32:
      return "a whole number from -2147483648 to 2147483647 (Int32)";
    case W::INT64:
      return "a whole number (Int64)";
    case W::UINT8:
      return "a whole number from 0 to 255 (UInt8)";
    case W::UINT16:
      return "a whole number from 0 to 65535 (UInt16)";
    case W::UINT32:
      return "a whole number from 0 to 4294967295 (UInt32)";
    case W::UINT64:
      return "a whole number from 0 (UInt64)";
    case W::BOOL:
      return "true or false (Bool)";
    case W::TEXT:
      return "text (Text)";
    case W::ENUM: {
      std::string names;
      for (auto e : type.asEnum().getEnumerants())
        names += (names.empty() ? "" : ", ") + std::string(e.getProto().getName());
      return "one of " + names + " (" + std::string(type.asEnum().getShortDisplayName()) + ")";
    }
    case W::LIST:
      return "a list [a,b,...] of " + typeName(type.asList().getElementType());
    case W::STRUCT:
      return "a struct " + std::string(type.asStruct().getShortDisplayName()) +
             "; name one of its fields: " + fieldNames(type.asStruct());
    default:
      return "a type --set cannot write";
  }
}

// The whole of `text` as a number, or nothing.
std::optional<double> number(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

// `text` read as one value of `type` (not a list); nothing when it is not one.
std::optional<capnp::DynamicValue::Reader> scalar(capnp::Type type, const std::string& text) {
  using W = capnp::schema::Type::Which;
  auto whole = [&](double lo, double hi) -> std::optional<capnp::DynamicValue::Reader> {
    if (text.find_first_not_of("-0123456789") != std::string::npos) return std::nullopt;
    const auto v = number(text);
    if (!v || *v < lo || *v > hi || *v != std::floor(*v)) return std::nullopt;
    if (lo < 0) return capnp::DynamicValue::Reader(static_cast<int64_t>(*v));
    return capnp::DynamicValue::Reader(static_cast<uint64_t>(*v));
  };
  switch (type.which()) {
    case W::FLOAT32:
      if (auto v = number(text); v && std::fabs(*v) <= FLT_MAX)
        return capnp::DynamicValue::Reader(*v);
      return std::nullopt;
    case W::FLOAT64:
      if (auto v = number(text)) return capnp::DynamicValue::Reader(*v);
      return std::nullopt;
    case W::INT8:
      return whole(-128, 127);
    case W::INT16:
      return whole(-32768, 32767);
    case W::INT32:
      return whole(-2147483648.0, 2147483647.0);
    case W::INT64:
      return whole(-9007199254740992.0, 9007199254740992.0);  // exact in a double
    case W::UINT8:
      return whole(0, 255);
    case W::UINT16:
      return whole(0, 65535);
    case W::UINT32:
      return whole(0, 4294967295.0);
    case W::UINT64:
      return whole(0, 9007199254740992.0);
    case W::BOOL:
      if (text == "true" || text == "false") return capnp::DynamicValue::Reader(text == "true");
      return std::nullopt;
    case W::TEXT:
      return capnp::DynamicValue::Reader(capnp::Text::Reader(text.c_str(), text.size()));
    case W::ENUM: {
      KJ_IF_MAYBE (e, type.asEnum().findEnumerantByName(text))
        return capnp::DynamicValue::Reader(capnp::DynamicEnum(*e));
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::string trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The items of "[a, b, c]"; nothing when `text` is not in brackets.
std::optional<std::vector<std::string>> listItems(const std::string& text) {
  const std::string t = trimmed(text);
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return std::nullopt;
  std::vector<std::string> items;
  const std::string inner = trimmed(t.substr(1, t.size() - 2));
  if (inner.empty()) return items;
  for (size_t at = 0;;) {
    const size_t comma = inner.find(',', at);
    items.push_back(
        trimmed(inner.substr(at, comma == std::string::npos ? std::string::npos : comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return items;
}

// Refuses a union member that the job did not choose.
void requireChosen(const JobOverride& change, capnp::DynamicStruct::Builder at,
                   capnp::StructSchema::Field field, const std::string& where) {
  if (field.getProto().getDiscriminantValue() == capnp::schema::Field::NO_DISCRIMINANT) return;
  KJ_IF_MAYBE (chosen, at.which()) {
    if (*chosen == field) return;
    fail(change, where + ": the job chose " + std::string(chosen->getProto().getName()) +
                     " here, not " + std::string(field.getProto().getName()) +
                     "; --set changes the fields of what the job chose");
  }
}

}  // namespace

JobOverride parseOverride(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw JobError("--set " + assignment + ": expected PATH=VALUE, e.g. batchSize=256");
  return {assignment.substr(0, eq), assignment.substr(eq + 1)};
}

void applyOverride(proto::Job::Builder job, const JobOverride& change) {
  const auto steps = parsePath(change);
  capnp::DynamicStruct::Builder at = capnp::toDynamic(job);
  std::string where;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    const bool last = i + 1 == steps.size();
    where += (where.empty() ? "" : ".") + step.field;
    auto schema = at.getSchema();
    KJ_IF_MAYBE (f, schema.findFieldByName(step.field)) {
      const auto field = *f;
      requireChosen(change, at, field, where);
      capnp::Type type = field.getType();
      if (step.index) {
        if (!type.isList()) fail(change, where + " is " + typeName(type) + ", not a list");
        auto list = at.get(field).as<capnp::DynamicList>();
        where.append("[").append(std::to_string(*step.index)).append("]");
        if (*step.index >= list.size())
          fail(change, where + ": the job's " + step.field + " has " + std::to_string(list.size()) +
                           " element(s)");
        const capnp::Type element = type.asList().getElementType();
        if (element.isStruct()) {
          if (last) fail(change, where + " is " + typeName(element));
          at = list[static_cast<unsigned>(*step.index)].as<capnp::DynamicStruct>();
          continue;
        }
        if (!last) fail(change, where + " is " + typeName(element) + ", which has no fields");
        auto value = scalar(element, change.value);
        if (!value) fail(change, where + " expects " + typeName(element));
        list.set(static_cast<unsigned>(*step.index), *value);
        return;
      }
      if (type.isStruct()) {
        if (last) fail(change, where + " is " + typeName(type));
        at = at.get(field).as<capnp::DynamicStruct>();
        continue;
      }
      if (!last) fail(change, where + " is " + typeName(type) + ", which has no fields");
      if (type.isList()) {
        const capnp::Type element = type.asList().getElementType();
        const auto items = listItems(change.value);
        if (!items || element.isStruct() || element.isList())
          fail(change, where + " expects " + typeName(type));
        std::vector<capnp::DynamicValue::Reader> values;
        for (const auto& item : *items) {
          auto v = scalar(element, item);
          if (!v) fail(change, where + ": '" + item + "' is not " + typeName(element));
          values.push_back(*v);
        }
        auto list = at.init(field, static_cast<unsigned>(values.size())).as<capnp::DynamicList>();
        for (unsigned k = 0; k < values.size(); ++k) list.set(k, values[k]);
        return;
      }
      auto value = scalar(type, change.value);
      if (!value) fail(change, where + " expects " + typeName(type));
      at.set(field, *value);
      return;
    }
    fail(change, "no field " + step.field + " in " + std::string(schema.getShortDisplayName()) +
                     (where == step.field ? "" : " (at " + where + ")") +
                     "; it has: " + fieldNames(schema));
  }
}

void applyOverrides(proto::Job::Builder job, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) applyOverride(job, parseOverride(a));
}

SweepAxis parseSweep(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw JobError("--sweep " + text + ": expected PATH=V1,V2,..., e.g. batchSize=32,64,128");
  SweepAxis axis{text.substr(0, eq), {}};
  const std::string list = text.substr(eq + 1);
  int depth = 0;
  std::string item;
  for (size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth <= 0) {
      if (trimmed(item).empty())
        throw JobError("--sweep " + text + ": " +
                       (list.empty()
                            ? std::string("the list of values is empty")
                            : "value " + std::to_string(axis.values.size() + 1) + " is empty"));
      axis.values.push_back(trimmed(item));
      item.clear();
      continue;
    }
    item += c;
  }
  if (depth != 0)
    throw JobError("--sweep " + text + ": a '[' without its ']' (or the other way round)");
  return axis;
}

std::vector<std::vector<JobOverride>> sweepPoints(const std::vector<SweepAxis>& axes) {
  size_t total = 1;
  for (const auto& a : axes) {
    total *= a.values.size();
    if (total > kMaxSweepJobs)
      throw JobError("--sweep: the sweep makes over " + std::to_string(kMaxSweepJobs) +
                     " jobs, the most one array may hold");
  }
  std::vector<std::vector<JobOverride>> points(1);
  for (const auto& a : axes) {
    std::vector<std::vector<JobOverride>> next;
    for (const auto& p : points)
      for (const auto& v : a.values) {
        next.push_back(p);
        next.back().push_back({a.path, v, "--sweep"});
      }
    points = std::move(next);
  }
  return points;
}

}  // namespace tfmath
