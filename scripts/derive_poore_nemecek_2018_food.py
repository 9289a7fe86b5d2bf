"""Derive the factor set `poore-nemecek-2018-food` (role activity): kg CO2e per kg of food product.

Input: klimainnkjop/data/raw/owid-poore-nemecek-2018/Food_Production.csv (Poore & Nemecek 2018 via
Our World in Data, CC BY 4.0), column `Total_emissions` (kg CO2e per kg product, farm to retail:
land use change, feed, farm, processing, transport, packaging, retail).

Method: each food sub-category takes one product, or the simple (unweighted) mean of the products
listed in PRODUCTS. Choices:
- beef: "Beef (beef herd)" (dairy-herd beef, 21.1, is not used; much Norwegian beef comes from dairy
  herds, so this is conservative),
- vegetables: mean of potatoes, tomatoes, onions & leeks, root vegetables, brassicas, other vegetables,
- fruit: mean of citrus, bananas, apples, berries & grapes, other fruit,
- legumes: mean of other pulses, peas, tofu,
- other: mean of rice, maize meal, oatmeal, cane and beet sugar, rapeseed, sunflower and olive oil,
  nuts, groundnuts, dark chocolate,
- coffee (proposed category goods.food.beverages.coffee): "Coffee", per kg of coffee (beans/ground);
  no row for goods.food.beverages itself: the data set has no per-kg factor for drinks in general.
Values are taken as floats from the file (full precision, as published). Region GLO, quality 3.

Usage: python scripts/derive_poore_nemecek_2018_food.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _factorset as fs  # noqa: E402

NAME = "poore-nemecek-2018-food"
RAW_FILE = fs.RAW / "owid-poore-nemecek-2018" / "Food_Production.csv"
PRODUCTS = {
    "goods.food.beef": ["Beef (beef herd)"],
    "goods.food.lamb": ["Lamb & Mutton"],
    "goods.food.pork": ["Pig Meat"],
    "goods.food.poultry": ["Poultry Meat"],
    "goods.food.fish": ["Fish (farmed)"],
    "goods.food.dairy": ["Milk"],
    "goods.food.cheese": ["Cheese"],
    "goods.food.eggs": ["Eggs"],
    "goods.food.grain": ["Wheat & Rye (Bread)"],
    "goods.food.vegetables": ["Potatoes", "Tomatoes", "Onions & Leeks", "Root Vegetables", "Brassicas", "Other Vegetables"],
    "goods.food.fruit": ["Citrus Fruit", "Bananas", "Apples", "Berries & Grapes", "Other Fruit"],
    "goods.food.legumes": ["Other Pulses", "Peas", "Tofu"],
    "goods.food.beverages.coffee": ["Coffee"],
    "goods.food.other": ["Rice", "Maize (Meal)", "Oatmeal", "Cane Sugar", "Beet Sugar", "Rapeseed Oil",
                         "Sunflower Oil", "Olive Oil", "Nuts", "Groundnuts", "Dark Chocolate"],
}
META = {
    "name": NAME,
    "version": "2026.1",
    "publisher": "Our World in Data (data: Poore & Nemecek 2018)",
    "licence": "CC BY 4.0",
    "attribution": "Poore, J. & Nemecek, T. (2018). Reducing food's environmental impacts through producers and consumers. Science 360(6392), 987-992. Data via Our World in Data (CC BY 4.0)",
    "gwp_basis": "AR5 GWP100",
    "description": (
        "Life-cycle emissions of food products, kg CO2e per kg product (Total_emissions: land use change, "
        "feed, farm, processing, transport, packaging, retail), global mean of Poore & Nemecek (2018), "
        "sub-categories with several products take the simple mean, derived by scripts/derive_poore_nemecek_2018_food.py"
    ),
    "role": "activity",
}


def build_rows() -> list[dict]:
    data = {r["Food product"]: float(r["Total_emissions"]) for r in fs.read_csv(RAW_FILE, delimiter=",")}
    rows = []
    for key in sorted(PRODUCTS):
        products = PRODUCTS[key]
        value = sum(data[p] for p in products) / len(products)
        if len(products) == 1:
            note = f"Poore & Nemecek 2018: {products[0]}"
        else:
            note = f"simple mean of {len(products)} products: " + ", ".join(products)
        if key == "goods.food.beverages.coffee":
            note += " (per kg of coffee beans or ground coffee, not per litre of brewed coffee)"
        if key == "goods.food.beef":
            note += " (dairy-herd beef: 21.1 kg/kg)"
        rows.append(fs.row(key, "activity", "kg", value, quality=3, region="GLO",
                           source_ref="OWID Food_Production.csv Total_emissions: " + " | ".join(products),
                           note=note))
    return rows


def main(out=None) -> Path:
    return fs.write(NAME, META, build_rows(), out)


if __name__ == "__main__":
    sys.exit(fs.run(NAME, main))
