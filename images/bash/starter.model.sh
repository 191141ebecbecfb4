# The chosen model is mounted read-only at MODEL_PATH (a folder in Hugging Face layout).
echo "model folder: $MODEL_PATH"
find "$MODEL_PATH" -type f -printf '  %P: %s bytes\n' | sort
if [ -f "$MODEL_PATH/config.json" ]; then
  echo "config.json:"
  head -c 2000 "$MODEL_PATH/config.json"; echo
fi
