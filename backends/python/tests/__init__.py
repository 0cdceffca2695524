"""Unit tests of the Python backend, run inside its image (no database):
python3 -m unittest discover -s backend/tests -t .  (scripts/backend-unit-tests.sh)"""
