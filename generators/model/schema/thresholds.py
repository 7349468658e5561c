"""Every threshold inference decides with, and the statistic behind it.

Decision thresholds (``*_MIN_SAMPLES``) only change what is published and can
be tuned freely. Tracking caps (``ENUM_MAX_VALUES``, ``ENUM_MAX_LENGTH``,
``MAP_MAX_PROPERTIES``) shape the stored statistics: changing one needs
``STATE_VERSION`` bumped so stored partials are rebuilt, not merged.
"""

from __future__ import annotations

# Rule of three: after n objects that all carry a property, the 95% upper
# bound on its absence rate is ~3/n. At 300 that bound is 1%, and a property
# missing from 1% of responses has shown its absence with probability
# 1 - 0.99**300 = 95%. Below it, nightly n = 20-100 flipped a 99%-present field
# between required and optional on 30-45% of nights (NOTES-inference.md).
REQUIRED_MIN_SAMPLES = 300

# Non-empty string values, all matching, before a `format` is claimed. 3/30
# bounds the mismatch rate at 10% (95%); a format is how the producer
# serialises a type, so a free-text field matching uuid or date-time 30 times
# running is implausible, and one mismatch retracts it for good.
FORMAT_MIN_SAMPLES = 30

# A 12-value enum changed its value set on 96% of nights at n = 50 and on 0%
# at n >= 500 (NOTES-inference.md). Both this and FORMAT_MIN_SAMPLES count
# values from distinct bodies only (stats "repeats" left out): a repeated
# example is one value. Values that look like data (ids, hashes, colours:
# formats.is_pattern_like) or that match a format never become an enum.
ENUM_MIN_SAMPLES = 500

# Distinct values tracked per string field, and the most an `enum` may have:
# at ENUM_MIN_SAMPLES each of 16 equally likely values is expected ~31 times,
# so the chance one is still unseen is below 16 * (15/16)**500 ~ 1e-12.
ENUM_MAX_VALUES = 16

# Enum members are codes and labels; a longer string is prose or an id, and
# stops value tracking for its field.
ENUM_MAX_LENGTH = 64

# Distinct keys after which an object is a map, whatever its keys look like
# (its per-key statistics fold into one `additionalProperties` node). A
# judgment call, not a measured figure: record-shaped objects in the APIs we
# looked at stay under ~100 keys, maps of ids or names grow without bound.
MAP_MAX_PROPERTIES = 200

# Hex keys count as ids only from this length (and with a digit): shorter hex
# words are English ("add", "face", "decade").
MAP_MIN_HEX_KEY_LENGTH = 8

# Bumped whenever the layout of the statistics or a tracking cap changes.
STATE_VERSION = 1
