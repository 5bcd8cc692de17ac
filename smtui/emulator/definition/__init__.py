"""Pipeline definitions: parsing into a step graph (`graph`), the Create*Job checks of job steps' Arguments
(`arguments`), and the expressions that steps and conditions evaluate (`expressions`)."""
